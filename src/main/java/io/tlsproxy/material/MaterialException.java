package io.tlsproxy.material;

/** Certificate or key material that cannot be used; the message says why and, where it can, what to do. */
public final class MaterialException extends Exception {
  public MaterialException(String message) {
    super(message, null, false, false);
  }
}
