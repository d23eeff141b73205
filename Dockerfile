# tlsproxy container image: a Maven build stage and a slim JRE runtime.
#
#   docker build -t tlsproxy .
#   docker run --read-only --tmpfs /tmp -p 8443:8443 \
#     -v "$PWD/my.yaml:/etc/tlsproxy/tlsproxy.yaml:ro" -v "$PWD/certs:/etc/tlsproxy/certs:ro" tlsproxy
#
# Base images are build arguments, so a mirror or a hardened image can stand in for the public defaults. Any
# base works whose PATH has `mvn` (build) or `java` 17+ (runtime) and a POSIX shell. The code is built for Java 17;
# the runtime is Java 25 by default because of its AOT cache (see below): with it, a burst of new connections
# right after a start was served in a quarter to a half of the time that Java 17 took on the originating path,
# and in three fifths to three quarters of it on the terminating one (docs/performance.md, "Cold start").
# RUNTIME_IMAGE=eclipse-temurin:17-jre gives the Java 17 image, with a CDS archive and about 17 MiB less resident
# memory before the first connection (most of it the mapped cache).
ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
ARG RUNTIME_IMAGE=eclipse-temurin:25-jre
# build: compile here (the default). prebuilt: copy target/tlsproxy.jar from the build context instead, for
# builders that cannot reach a Maven repository from inside the build.
ARG JAR_FROM=build
# What the image's org.opencontainers.image.* labels say beyond the fixed ones: the version (the jar's, as
# `tlsproxy --version` prints it), the source revision (a commit) and the repository's URL, e.g.
#   --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" --build-arg SOURCE=https://...
ARG VERSION=""
ARG REVISION=""
ARG SOURCE=""

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# Dependencies first, so that a change to the sources alone reuses this layer (package may still fetch a few
# plugin dependencies that go-offline does not resolve).
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src/main src/main
RUN mvn -B -q package -DskipTests && mkdir -p /out && cp target/tlsproxy.jar /out/
# The SBOM that the build put into the jar, also as a file of its own for scanners.
RUN cd /out && jar xf tlsproxy.jar META-INF/sbom/bom.json && mv META-INF/sbom/bom.json . && rm -r META-INF

FROM ${BUILD_IMAGE} AS prebuilt
COPY target/tlsproxy.jar /out/tlsproxy.jar
RUN cd /out && jar xf tlsproxy.jar META-INF/sbom/bom.json && mv META-INF/sbom/bom.json . && rm -r META-INF

FROM ${JAR_FROM} AS jar

FROM ${RUNTIME_IMAGE}
# A fixed, unprivileged user that exists in no base image, so that file ownership on mounted volumes and
# runAsUser in Kubernetes can name it. Written into passwd directly because base images differ in their tools.
ARG UID=10001
RUN echo "tlsproxy:x:${UID}:${UID}:tlsproxy:/tmp:/usr/sbin/nologin" >> /etc/passwd \
 && echo "tlsproxy:x:${UID}:" >> /etc/group \
 && mkdir -p /opt/tlsproxy /etc/tlsproxy/certs
COPY --from=jar /out/tlsproxy.jar /opt/tlsproxy/tlsproxy.jar
# CycloneDX: the jar's dependencies (Vert.x, Netty, BoringSSL builds, ...); the JRE comes from the base image.
COPY --from=jar /out/bom.json /opt/tlsproxy/sbom/bom.json
COPY container/tlsproxy container/train-cds /usr/local/bin/
COPY container/tlsproxy.yaml /etc/tlsproxy/tlsproxy.yaml
# Everything stays root-owned and read-only to the proxy; it writes nothing but what the JVM puts in /tmp,
# which should be a tmpfs when the root filesystem is read-only.
RUN chmod 0755 /usr/local/bin/tlsproxy /usr/local/bin/train-cds \
 && chmod 0644 /opt/tlsproxy/tlsproxy.jar /opt/tlsproxy/sbom/bom.json /etc/tlsproxy/tlsproxy.yaml
# An archive from one training run of the proxy, which the launcher maps at every start: on Java 25 an AOT cache
# (tlsproxy.aot: classes loaded and linked, and the run's method profiles), before that a class data sharing
# archive (tlsproxy.jsa). It fits this JDK and jar only, so an image that replaces either should run train-cds
# again (the JVM ignores an archive that does not fit).
RUN train-cds /opt/tlsproxy/tlsproxy.jsa
USER ${UID}:${UID}
ENV HOME=/tmp
WORKDIR /etc/tlsproxy
# 8080 plaintext and 8443 TLS listeners (as the configuration says), 9901 admin: /metrics /healthz /readyz.
EXPOSE 8080 8443 9901
ENTRYPOINT ["tlsproxy"]
CMD ["--config", "/etc/tlsproxy/tlsproxy.yaml"]
# Last, so that a new revision changes no layer above. The keys:
# https://github.com/opencontainers/image-spec/blob/main/annotations.md
ARG VERSION
ARG REVISION
ARG SOURCE
LABEL org.opencontainers.image.title="tlsproxy" \
      org.opencontainers.image.description="TLS-terminating TCP proxy and tunnel on Vert.x" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
