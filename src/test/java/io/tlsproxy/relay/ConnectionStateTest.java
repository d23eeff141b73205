package io.tlsproxy.relay;

import static io.tlsproxy.relay.ConnectionState.ACCEPTED;
import static io.tlsproxy.relay.ConnectionState.CLIENT_FINISHED;
import static io.tlsproxy.relay.ConnectionState.CLOSED;
import static io.tlsproxy.relay.ConnectionState.CLOSING;
import static io.tlsproxy.relay.ConnectionState.DIALLING;
import static io.tlsproxy.relay.ConnectionState.ENDING_LIFETIME;
import static io.tlsproxy.relay.ConnectionState.HANDSHAKING;
import static io.tlsproxy.relay.ConnectionState.PROXY_HEADER;
import static io.tlsproxy.relay.ConnectionState.RELAYING;
import static io.tlsproxy.relay.ConnectionState.STARTTLS;
import static io.tlsproxy.relay.ConnectionState.UPSTREAM_FINISHED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The transitions of a connection's life, as {@link ConnectionState}'s class comment draws them. */
class ConnectionStateTest {

  @Test
  void everyPathOfTheDiagramIsAllowed() {
    for (List<ConnectionState> path : List.of(
        List.of(ACCEPTED, PROXY_HEADER, HANDSHAKING, DIALLING, RELAYING, CLIENT_FINISHED, CLOSING, CLOSED),
        List.of(ACCEPTED, HANDSHAKING, DIALLING, RELAYING, UPSTREAM_FINISHED, ENDING_LIFETIME, CLOSING, CLOSED),
        List.of(ACCEPTED, DIALLING, RELAYING, ENDING_LIFETIME, CLOSING, CLOSED),
        List.of(ACCEPTED, PROXY_HEADER, DIALLING, CLOSING, CLOSED),
        List.of(ACCEPTED, STARTTLS, HANDSHAKING, DIALLING, RELAYING, CLOSING, CLOSED),
        List.of(ACCEPTED, PROXY_HEADER, STARTTLS, CLOSING, CLOSED))) {
      for (int i = 1; i < path.size(); i++) {
        assertTrue(path.get(i - 1).canMoveTo(path.get(i)), path.get(i - 1) + " -> " + path.get(i));
      }
    }
  }

  @Test
  void everyStateButClosedCanStartClosingAndClosedIsFinal() {
    for (ConnectionState s : ConnectionState.values()) {
      assertEquals(s != CLOSING && s != CLOSED, s.canMoveTo(CLOSING), s + " -> CLOSING");
      assertFalse(CLOSED.canMoveTo(s), "CLOSED -> " + s);
    }
    assertTrue(CLOSING.canMoveTo(CLOSED));
  }

  @Test
  void nothingGoesBackAndNothingSkipsToRelayingWithoutDialling() {
    assertFalse(RELAYING.canMoveTo(DIALLING));
    assertFalse(DIALLING.canMoveTo(HANDSHAKING));
    assertFalse(HANDSHAKING.canMoveTo(PROXY_HEADER));
    assertFalse(CLIENT_FINISHED.canMoveTo(RELAYING));
    assertFalse(CLIENT_FINISHED.canMoveTo(UPSTREAM_FINISHED), "both finished is completed: CLOSING");
    for (ConnectionState s : EnumSet.of(ACCEPTED, PROXY_HEADER, STARTTLS, HANDSHAKING)) {
      assertFalse(s.canMoveTo(RELAYING), s + " -> RELAYING");
    }
    assertFalse(STARTTLS.canMoveTo(DIALLING), "nothing is dialled before the client's TLS is up");
    assertFalse(HANDSHAKING.canMoveTo(STARTTLS), "the upgrade happens once");
  }

  @Test
  void everyStateIsReachableFromAcceptedAndReachesClosed() {
    Set<ConnectionState> seen = EnumSet.of(ACCEPTED);
    Deque<ConnectionState> todo = new ArrayDeque<>(List.of(ACCEPTED));
    while (!todo.isEmpty()) {
      ConnectionState s = todo.poll();
      for (ConnectionState t : ConnectionState.values()) {
        if (s.canMoveTo(t) && seen.add(t)) {
          todo.add(t);
        }
      }
    }
    assertEquals(EnumSet.allOf(ConnectionState.class), seen);
  }

  @Test
  void relayingAndClosingSayWhatTheirNamesSay() {
    assertEquals(EnumSet.of(RELAYING, CLIENT_FINISHED, UPSTREAM_FINISHED, ENDING_LIFETIME),
        EnumSet.copyOf(List.of(ConnectionState.values()).stream().filter(ConnectionState::relaying).toList()));
    assertEquals(EnumSet.of(CLOSING, CLOSED),
        EnumSet.copyOf(List.of(ConnectionState.values()).stream().filter(ConnectionState::closing).toList()));
  }
}
