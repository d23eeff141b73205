package io.tlsproxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every configuration problem, each as {@code key.path: what is wrong and what to do}, so that one
 * run of {@code --check} lists them all.
 */
public final class ConfigProblems {

  private final List<String> problems = new ArrayList<>();

  public void add(String path, String message) {
    problems.add(path.isEmpty() ? message : path + ": " + message);
  }

  public int size() {
    return problems.size();
  }

  public boolean isEmpty() {
    return problems.isEmpty();
  }

  public List<String> list() {
    return List.copyOf(problems);
  }

  /** Throws a {@link ConfigException} holding every problem, if there is any. */
  public void throwIfAny() {
    if (!problems.isEmpty()) {
      throw new ConfigException(list());
    }
  }
}
