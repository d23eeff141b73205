package io.tlsproxy.proxyproto;

import java.util.Locale;

/** Why bytes that started like a PROXY header are not a valid one. Labels are stable: metrics key on them. */
public enum HeaderError {
  /** Longer than the decoder's cap (107 bytes for version 1, a configured cap for version 2). */
  TOO_LONG,
  /** Version 2 signature followed by a version other than 2. */
  BAD_VERSION,
  /** Version 2 command other than LOCAL or PROXY. */
  BAD_COMMAND,
  /** Unknown protocol (version 1) or address family or transport (version 2). */
  BAD_FAMILY,
  BAD_ADDRESS,
  BAD_PORT,
  /** A TLV that runs past the header, or an SSL TLV too short for its fixed fields. */
  BAD_TLV,
  /** A CRC32C TLV whose value does not match the header. */
  BAD_CHECKSUM,
  /** Anything else wrong with the syntax: field count, spacing, line ending, characters. */
  MALFORMED;

  /** The lower-case name used as a metric label and in logs, e.g. {@code bad_address}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
