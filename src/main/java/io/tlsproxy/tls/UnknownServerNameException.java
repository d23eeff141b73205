package io.tlsproxy.tls;

import javax.net.ssl.SSLException;

/** A client asked for a server name this listener does not answer (no route matches and there is no default). */
public final class UnknownServerNameException extends SSLException {

  public UnknownServerNameException(String serverName) {
    super("no route for server name " + serverName);
  }
}
