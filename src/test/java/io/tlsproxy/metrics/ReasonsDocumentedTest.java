package io.tlsproxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tlsproxy.tls.HandshakeFailure;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Reasons are public API (log fields and metric labels): the typed sets in the code and the tables of
 * docs/metrics.md must name the same reasons, so that neither can grow without the other.
 */
class ReasonsDocumentedTest {

  private static final Path DOC = Path.of("docs/metrics.md");
  /** The first cell of a table row: {@code | `completed` | ...}, without a {@code :REASON} suffix. */
  private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9_]+)(?::[A-Z]+)?` \\|", Pattern.MULTILINE);

  @Test
  void closeReasonsAreTheDocumentedOnes() throws IOException {
    assertEquals(documented("## Close reasons"),
        labels(Arrays.stream(CloseReason.values()).map(CloseReason::label).toList()));
  }

  @Test
  void rejectionReasonsAreTheDocumentedOnes() throws IOException {
    assertEquals(documented("## Rejection reasons"),
        labels(Arrays.stream(RejectReason.values()).map(RejectReason::label).toList()));
  }

  @Test
  void handshakeFailureReasonsAreTheDocumentedOnes() throws IOException, IllegalAccessException {
    TreeSet<String> code = new TreeSet<>();
    for (Field f : HandshakeFailure.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        code.add((String) f.get(null));
      }
    }
    assertEquals(documented("## Handshake failure reasons"), code);
  }

  @Test
  void everyMetricIsDocumentedOnce() throws IOException {
    String doc = Files.readString(DOC);
    Matcher m = Pattern.compile("^\\| `(tlsproxy_[a-z_]+)` \\|", Pattern.MULTILINE).matcher(doc);
    List<String> rows = m.results().map(r -> r.group(1)).toList();
    assertEquals(new TreeSet<>(rows).size(), rows.size(), "a metric listed twice in docs/metrics.md: " + rows);
  }

  /** The reasons in the first column of the table under {@code heading}. */
  private static TreeSet<String> documented(String heading) throws IOException {
    String doc = Files.readString(DOC);
    int start = doc.indexOf(heading + "\n");
    if (start < 0) {
      throw new AssertionError("docs/metrics.md has no section " + heading);
    }
    int end = doc.indexOf("\n## ", start + heading.length());
    String section = doc.substring(start, end < 0 ? doc.length() : end);
    return labels(ROW.matcher(section).results().map(r -> r.group(1)).toList());
  }

  private static TreeSet<String> labels(List<String> names) {
    return new TreeSet<>(names);
  }
}
