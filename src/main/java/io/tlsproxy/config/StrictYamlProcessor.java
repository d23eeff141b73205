package io.tlsproxy.config;

import io.vertx.config.spi.ConfigProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The vertx-config format {@value #FORMAT}: YAML as vertx-config-yaml reads it (SnakeYAML's safe constructor),
 * except that a key written twice in one mapping is an error naming its key path and both lines, instead of the
 * last one silently winning (SnakeYAML's default, and what vertx-config-yaml keeps). SnakeYAML's own
 * {@code LoaderOptions.setAllowDuplicateKeys(false)} names only the line of the second key and not the path, so
 * the composed node tree is checked here before it is turned into objects. Found by vertx-config through
 * {@code META-INF/services/io.vertx.config.spi.ConfigProcessor}.
 */
public final class StrictYamlProcessor implements ConfigProcessor {

  public static final String FORMAT = "tlsproxy-yaml";

  @Override
  public String name() {
    return FORMAT;
  }

  @Override
  public Future<JsonObject> process(Vertx vertx, JsonObject configuration, Buffer input) {
    return vertx.executeBlocking(() -> parse(input.toString(StandardCharsets.UTF_8)));
  }

  /**
   * Parses one YAML document whose top level is a mapping. Throws {@link ConfigException} for keys written twice
   * (one line each) and SnakeYAML's {@code YAMLException} for text that is not YAML.
   */
  public static JsonObject parse(String text) {
    LoaderOptions options = new LoaderOptions();
    Builder builder = new Builder(options);
    Node root = new Yaml(builder).compose(new StringReader(text));
    if (root == null) {
      return new JsonObject(); // empty file: the reader then says what is missing
    }
    if (!(root instanceof MappingNode)) {
      throw new ConfigException("line " + line(root) + ": the file must be a mapping of keys such as listeners:, "
          + "not a " + (root instanceof SequenceNode ? "list" : "single value"));
    }
    ConfigProblems problems = new ConfigProblems();
    check(root, "", problems, Collections.newSetFromMap(new IdentityHashMap<>()),
        Collections.newSetFromMap(new IdentityHashMap<>()));
    problems.throwIfAny();
    return (JsonObject) json(builder.build(root));
  }

  /**
   * Reports keys written twice in a mapping, and aliases that refer to a node containing them (a value without
   * end). {@code open} holds the nodes on the way from the root; {@code done} those already checked, since an
   * alias makes one node appear in several places.
   */
  private static void check(Node node, String path, ConfigProblems problems, Set<Node> open, Set<Node> done) {
    if (open.contains(node)) {
      problems.add(path, "an alias here refers to a value that contains it, which would never end; write the "
          + "value out instead");
      return;
    }
    if (!done.add(node)) {
      return;
    }
    open.add(node);
    if (node instanceof MappingNode mapping) {
      Map<String, Node> seen = new HashMap<>();
      for (NodeTuple tuple : mapping.getValue()) {
        if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
          continue; // a list or mapping as a key: the reader reports the key as unknown
        }
        String key = keyNode.getValue();
        String keyPath = path.isEmpty() ? key : path + "." + key;
        Node first = seen.putIfAbsent(key, keyNode);
        if (first != null) {
          problems.add(keyPath, (line(first) == line(keyNode) ? "written twice on line " + line(keyNode)
              : "written twice, on lines " + line(first) + " and " + line(keyNode))
              + "; the last one would silently win, so remove one");
        }
        check(tuple.getValueNode(), keyPath, problems, open, done);
      }
    } else if (node instanceof SequenceNode sequence) {
      List<Node> items = sequence.getValue();
      for (int i = 0; i < items.size(); i++) {
        check(items.get(i), path + "[" + i + "]", problems, open, done);
      }
    }
    open.remove(node);
  }

  private static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  /** SnakeYAML's maps and lists as Vert.x JSON, as vertx-config-yaml converts them (dates become instants). */
  private static Object json(Object value) {
    if (value instanceof Map<?, ?> map) {
      JsonObject out = new JsonObject();
      map.forEach((k, v) -> out.put(String.valueOf(k), json(v)));
      return out;
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      list.forEach(v -> out.add(json(v)));
      return new JsonArray(out);
    }
    return value instanceof Date date ? date.toInstant() : value;
  }

  /** SnakeYAML's safe constructor, run on a node tree that was checked first. */
  private static final class Builder extends SafeConstructor {
    Builder(LoaderOptions options) {
      super(options);
    }

    Object build(Node root) {
      return constructDocument(root);
    }
  }
}
