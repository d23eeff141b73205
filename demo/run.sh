#!/usr/bin/env bash
# Builds tlsproxy if needed, makes dev certificates if missing, starts the demo backend on 127.0.0.1:8080
# and runs tlsproxy on conf/tlsproxy.yaml in the foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f target/tlsproxy.jar ]] || [[ -n "$(find src pom.xml -newer target/tlsproxy.jar -print -quit)" ]]; then
  mvn -q -B package -DskipTests
fi
certs/make-dev-certs.sh
java demo/Backend.java 8080 &
backend=$!
trap 'kill "$backend" 2>/dev/null || true' EXIT
java -Xmx256m -XX:MaxDirectMemorySize=128m -jar target/tlsproxy.jar --config conf/tlsproxy.yaml
