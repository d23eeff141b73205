package io.tlsproxy;

import io.tlsproxy.config.ConfigException;
import io.tlsproxy.config.ConfigLoader;
import io.tlsproxy.config.LoggingConfig;
import io.tlsproxy.config.ProxyConfig;
import io.tlsproxy.listen.ProxyServer;
import io.tlsproxy.log.LogSetup;
import io.tlsproxy.metrics.PrometheusMetrics;
import io.tlsproxy.upstream.JvmDnsCache;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import sun.misc.Signal;

/** Parses the command line, loads the configuration and starts the proxy; nothing else. */
public final class Main {

  static final int EXIT_OK = 0;
  static final int EXIT_BUG = 1;
  static final int EXIT_USAGE = 2;

  private static final String NETTY_JFR = "io.netty.jfr.enabled";

  private static final String USAGE = """
      usage: tlsproxy [--config FILE] [--check] [--version] [--help]
        --config FILE  configuration to run (default conf/tlsproxy.yaml)
        --check        validate the configuration, print the effective TLS policy, exit
        --version      print the version
        --help         print this text
      """;

  private Main() {
  }

  public static void main(String[] args) {
    // Netty 4.2 registers its allocator's Flight Recorder events when it makes its first buffer: about 0.1 s of
    // class loading on one core before the first connection, and JFR's classes in metaspace, for events only a
    // recording would read. Off unless the command line asks for them.
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
    // Until the configuration is read: the environment's level, else info.
    LoggingConfig.Level envLevel = LoggingConfig.Level.parse(System.getenv(LogSetup.LEVEL_ENV));
    LogSetup.apply(envLevel != null ? envLevel : LoggingConfig.Level.INFO, false);
    JvmDnsCache.turnOff();
    int code = run(args, System.out, System.err);
    if (code != EXIT_OK || isOneShot(args)) {
      System.exit(code);
    }
  }

  /**
   * Native epoll where it loads (Linux; Vert.x falls back to NIO elsewhere), and one event loop per CPU the JVM may
   * use (its container's CPU limit or its CPU affinity; {@code -XX:ActiveProcessorCount=N} sets it), where Vert.x's
   * default is two per CPU. Everything a connection does on its loop is non-blocking, so a second loop per CPU only
   * adds a thread that the kernel time-slices against the first, with its own buffers and caches.
   */
  public static VertxOptions vertxOptions() {
    return new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Runtime.getRuntime().availableProcessors());
  }

  private static boolean isOneShot(String[] args) {
    for (String a : args) {
      if (a.equals("--check") || a.equals("--version") || a.equals("--help") || a.equals("-h")) {
        return true;
      }
    }
    return false;
  }

  /** Runs the command; for a server start, returns once the listeners are bound. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    Path config = Path.of("conf/tlsproxy.yaml");
    boolean check = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help", "-h" -> {
          out.print(USAGE);
          return EXIT_OK;
        }
        case "--version" -> {
          out.println("tlsproxy " + version());
          return EXIT_OK;
        }
        case "--check" -> check = true;
        case "--config" -> {
          if (i + 1 >= args.length) {
            err.println("--config: missing FILE; usage: tlsproxy --config FILE");
            return EXIT_USAGE;
          }
          config = Path.of(args[++i]);
        }
        default -> {
          err.println(args[i] + ": unknown argument; run tlsproxy --help");
          return EXIT_USAGE;
        }
      }
    }
    Vertx vertx = Vertx.vertx(vertxOptions());
    try {
      ProxyConfig cfg = ConfigLoader.load(vertx, config, System.getenv());
      if (!applyLogging(cfg.logging(), System.getenv(LogSetup.LEVEL_ENV), err)) {
        vertx.close();
        return EXIT_USAGE;
      }
      Startup.Plan plan = Startup.prepare(cfg, Clock.systemUTC());
      if (check) {
        ConfigException noUnixSockets = ProxyServer.unixSocketsUnsupported(vertx, plan.listeners());
        if (noUnixSockets != null) {
          throw noUnixSockets;
        }
        out.print(CheckReport.render(plan));
        out.println(config + ": OK");
        vertx.close();
        return EXIT_OK;
      }
      PrometheusMetrics metrics = new PrometheusMetrics(version());
      Shutdown shutdown = new Shutdown(vertx, cfg.shutdown());
      // Before the listeners open: a signal that comes once a port accepts must not meet the JVM's default
      // action, which ends the process. A SIGTERM before the proxy is attached below is kept and run then; a
      // SIGHUP before it runs is not needed, the material is being loaded.
      AtomicReference<Startup.Running> started = new AtomicReference<>();
      installSignals(shutdown, started);
      Startup.Running running = Startup.start(vertx, plan, metrics,
              () -> shutdown.request("POST /quitquitquit"))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      started.set(running);
      shutdown.attach(running.proxy());
      Logger.getLogger("tlsproxy").info("tlsproxy " + version() + " started (transport: "
          + (vertx.isNativeTransportEnabled() ? "native" : "nio") + ")");
      return EXIT_OK;
    } catch (ConfigException e) {
      e.problems().forEach(err::println);
      if (e.problems().size() > 1) {
        err.println(e.problems().size() + " problems in " + config);
      }
      vertx.close();
      return EXIT_USAGE;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof ConfigException ce) {
        ce.problems().forEach(err::println);
        vertx.close();
        return EXIT_USAGE;
      }
      return bug(err, vertx, e.getCause());
    } catch (Exception e) {
      return bug(err, vertx, e);
    }
  }

  /**
   * Logs from now on as {@code logging} says, at the level of {@code envLevel} ({@code TLSPROXY_LOG_LEVEL}) where
   * set, which wins over the file. Returns false, having said why on {@code err}, when that value is not a level.
   */
  private static boolean applyLogging(LoggingConfig logging, String envLevel, PrintStream err) {
    LoggingConfig.Level level = logging.level() != null ? logging.level() : LoggingConfig.Level.INFO;
    if (envLevel != null && !envLevel.isBlank()) {
      level = LoggingConfig.Level.parse(envLevel);
      if (level == null) {
        err.println(LogSetup.LEVEL_ENV + ": unknown value '" + envLevel + "'; use one of debug, info, warn, error");
        return false;
      }
    }
    LogSetup.apply(level, logging.format() == LoggingConfig.Format.JSON);
    return true;
  }

  private static int bug(PrintStream err, Vertx vertx, Throwable e) {
    err.println("tlsproxy failed to start: " + e);
    Logger.getLogger("tlsproxy").log(Level.FINE, "start-up failure", e);
    vertx.close();
    return EXIT_BUG;
  }

  /**
   * SIGTERM and SIGINT drain and exit 0 (see {@link Shutdown}). A signal handler rather than a shutdown hook,
   * because a hook cannot choose the exit status.
   */
  private static void installSignals(Shutdown shutdown, AtomicReference<Startup.Running> started) {
    sun.misc.SignalHandler handler = sig -> shutdown.request("SIG" + sig.getName());
    Signal.handle(new Signal("TERM"), handler);
    Signal.handle(new Signal("INT"), handler);
    // SIGHUP reloads certificate material now instead of at the next check.
    sun.misc.SignalHandler before = Signal.handle(new Signal("HUP"), sig -> {
      Startup.Running running = started.get();
      if (running != null) {
        running.reloadCertificates();
      }
    });
    // A process started with SIGHUP ignored (nohup, some service wrappers) keeps it ignored: the JVM installs no
    // handler for it then, and a SIGHUP would do nothing at all.
    if (before == sun.misc.SignalHandler.SIG_IGN) {
      Logger.getLogger("tlsproxy").warning(HUP_IGNORED);
    }
  }

  /** Logged at start when SIGHUP cannot reach the proxy. */
  static final String HUP_IGNORED = "SIGHUP is ignored in this process (it was started with SIGHUP ignored, e.g. "
      + "by nohup): SIGHUP will not reload certificates; the periodic check (reload.checkInterval) or a restart "
      + "picks up new files. Start it without nohup to reload on SIGHUP";

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
