package io.tlsproxy.material;

import io.tlsproxy.config.ConfigProblems;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks that a Kubernetes Secret directory holds the files a key needs, naming the missing one. */
public final class SecretFiles {

  private SecretFiles() {
  }

  /** True when every one of {@code names} is a readable file in {@code dir}; otherwise reports under {@code key}. */
  public static boolean present(Path dir, String key, ConfigProblems problems, String... names) {
    if (!Files.isDirectory(dir)) {
      problems.add(key, "directory not found: " + dir + "; mount the Secret there or fix the path");
      return false;
    }
    boolean all = true;
    for (String name : names) {
      Path f = dir.resolve(name);
      if (!Files.isRegularFile(f)) {
        problems.add(key, name + " not found in " + dir + "; a kubernetes.io/tls Secret has tls.crt and tls.key"
            + (name.equals(io.tlsproxy.config.SecretDir.CA) ? ", and cert-manager adds ca.crt" : ""));
        all = false;
      } else if (!Files.isReadable(f)) {
        problems.add(key, name + " in " + dir + " is not readable; check the volume's defaultMode");
        all = false;
      }
    }
    return all;
  }
}
