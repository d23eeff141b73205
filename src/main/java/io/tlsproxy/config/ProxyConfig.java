package io.tlsproxy.config;

import java.util.List;

/** The whole configuration file, validated. */
public record ProxyConfig(AdminConfig admin, List<ListenerConfig> listeners, ShutdownConfig shutdown,
                          LoggingConfig logging, ReloadConfig reload, WarmupConfig warmup) {
}
