package io.tlsproxy.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Reads a YAML file through vertx-config, with {@link StrictYamlProcessor} as the format so that a key written
 * twice is an error, and validates it strictly with {@link ConfigReader}.
 */
public final class ConfigLoader {

  private ConfigLoader() {
  }

  public static ProxyConfig load(Vertx vertx, Path file, Map<String, String> env) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(file + ": config file not found; pass --config FILE");
    }
    if (!Files.isReadable(file)) {
      throw new ConfigException(file + ": config file is not readable; check its permissions");
    }
    ConfigStoreOptions store = new ConfigStoreOptions().setType("file").setFormat(StrictYamlProcessor.FORMAT)
        .setConfig(new JsonObject().put("path", file.toString()));
    ConfigRetriever retriever = ConfigRetriever.create(vertx,
        new ConfigRetrieverOptions().setIncludeDefaultStores(false).setScanPeriod(0).addStore(store));
    JsonObject json;
    try {
      json = retriever.getConfig().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (rootCause(e) instanceof ConfigException problems) {
        throw problems;
      }
      throw new ConfigException(file + ": not valid YAML: " + oneLine(rootCause(e)));
    } catch (Exception e) {
      throw new ConfigException(file + ": could not be read: " + oneLine(e));
    } finally {
      retriever.close();
    }
    return new ConfigReader(env).read(json);
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.replaceAll("\\s+", " ").trim();
  }
}
