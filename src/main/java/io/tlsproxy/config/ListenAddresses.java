package io.tlsproxy.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The addresses the configuration listens on (every listener and the admin endpoint), checked for two that cannot
 * both be bound, so that {@code --check} finds the clash instead of the second bind at start. The rules are those
 * measured on Linux with both of the transports Vert.x uses here (Netty's epoll and the JDK's NIO): both open
 * dual-stack IPv6 sockets, without {@code IPV6_V6ONLY} or {@code SO_REUSEPORT}, and both bind {@code 0.0.0.0} as
 * the IPv6 wildcard.
 * <ul>
 *   <li>port 0 picks a free port at each bind, so it never clashes;</li>
 *   <li>the same address and port clash ({@code [::ffff:127.0.0.1]} is {@code 127.0.0.1});</li>
 *   <li>a wildcard, {@code 0.0.0.0:P} or {@code [::]:P}, takes P on every address of both families, so it clashes
 *       with anything else on P, {@code [::1]:P} included;</li>
 *   <li>two different addresses do not clash, even of one interface ({@code 127.0.0.1} and {@code 127.0.0.2},
 *       {@code 127.0.0.1} and {@code [::1]});</li>
 *   <li>host names are not resolved here (no look-up at check time, and the answer may differ at run time): a
 *       name clashes with the same name and with a wildcard; {@code localhost:P} beside {@code 127.0.0.1:P} is
 *       only caught when the second one fails to bind at start.</li>
 *   <li>a Unix socket clashes with the same path or abstract name only (paths are compared as written: a link
 *       to the same file is caught at start, where the second one finds a live socket).</li>
 * </ul>
 */
final class ListenAddresses {

  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

  /** {@code host} is the address in one spelling (or the name in lower case); {@code any} for a wildcard. */
  private record Bound(String key, String note, HostPort address, String host, boolean any) {
    String describe() {
      return key + " (" + address + note + ")";
    }
  }

  private final List<Bound> bound = new ArrayList<>();
  private final List<String> unixKeys = new ArrayList<>();
  private final List<UnixAddress> unix = new ArrayList<>();

  /** Adds a listener's address, TCP or Unix. */
  void add(String key, Address address) {
    if (address instanceof HostPort hp) {
      add(key, "", hp);
    } else if (address instanceof UnixAddress u) {
      unixKeys.add(key);
      unix.add(u);
    }
  }

  /** Adds the address of {@code key}; {@code note} tells more in messages, e.g. that it is the default. */
  void add(String key, String note, HostPort address) {
    if (address == null || address.port() == 0) {
      return;
    }
    InetAddress ip = literal(address.host());
    String host = ip != null ? ip.getHostAddress() : address.host().toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
    bound.add(new Bound(key, note, address, host, ip != null && ip.isAnyLocalAddress()));
  }

  /** Reports each address that clashes with an earlier one, naming both keys. */
  void check(ConfigProblems problems) {
    for (int j = 0; j < unix.size(); j++) {
      int earlier = unix.subList(0, j).indexOf(unix.get(j));
      if (earlier >= 0) {
        problems.add(unixKeys.get(j), unix.get(j) + " cannot listen beside " + unixKeys.get(earlier) + ": the same "
            + (unix.get(j).abstractName() ? "abstract name" : "socket path") + "; give one of them another");
      }
    }
    for (int j = 0; j < bound.size(); j++) {
      Bound later = bound.get(j);
      for (int i = 0; i < j; i++) {
        Bound earlier = bound.get(i);
        if (earlier.address().port() != later.address().port()) {
          continue;
        }
        String why = earlier.any() || later.any()
            ? "the wildcard takes port " + later.address().port() + " on all addresses, IPv4 and IPv6"
            : earlier.host().equals(later.host()) ? "the same address and port" : null;
        if (why != null) {
          problems.add(later.key(), later.address() + " cannot listen beside " + earlier.describe() + ": " + why
              + "; give one of them another port");
          break;
        }
      }
    }
  }

  /**
   * The address written as an IP literal, or null for a host name. Never a DNS look-up: dotted quads are read
   * here (InetAddress would resolve an invalid one as a name) and IPv6 literals, which InetAddress never looks up.
   */
  private static InetAddress literal(String host) {
    try {
      var m = IPV4.matcher(host);
      if (m.matches()) {
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
          int octet = Integer.parseInt(m.group(i + 1));
          if (octet > 255) {
            return null;
          }
          bytes[i] = (byte) octet;
        }
        return InetAddress.getByAddress(bytes);
      }
      return host.indexOf(':') >= 0 ? InetAddress.getByName(host) : null;
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
