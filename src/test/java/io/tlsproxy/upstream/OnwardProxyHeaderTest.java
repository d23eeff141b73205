package io.tlsproxy.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tlsproxy.config.UpstreamConfig.ProxyProtocolTlv;
import io.tlsproxy.proxyproto.DecodeResult;
import io.tlsproxy.proxyproto.ProxyHeader;
import io.tlsproxy.proxyproto.ProxyHeaderDecoder;
import io.tlsproxy.proxyproto.ProxyHeaderEncoder;
import io.tlsproxy.proxyproto.SslTlv;
import io.tlsproxy.proxyproto.Tlv;
import io.tlsproxy.testkit.TestPki;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client identity TLVs: what each name adds, in which order, and what happens when they do not fit. */
class OnwardProxyHeaderTest {

  @TempDir
  Path dir;

  @Test
  void eachListedNameAddsItsTlvsInAFixedOrder() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued client = pki.client(pki.ca("ca"), "workload", "spiffe://example.org/ns/a/sa/web",
        "https://id.example.org/web", "web.example.org");
    List<Tlv> all = OnwardProxyHeader.identityTlvs(client.cert(),
        List.of(ProxyProtocolTlv.CLIENT_DNS, ProxyProtocolTlv.CLIENT_URIS, ProxyProtocolTlv.CLIENT_CERT));
    assertEquals(List.of(Tlv.CLIENT_CERT, Tlv.CLIENT_URI, Tlv.CLIENT_URI, Tlv.CLIENT_DNS),
        all.stream().map(Tlv::type).toList());
    assertArrayEquals(client.cert().getEncoded(), all.get(0).value());
    assertEquals(List.of(Tlv.text(Tlv.CLIENT_URI, "spiffe://example.org/ns/a/sa/web"),
        Tlv.text(Tlv.CLIENT_URI, "https://id.example.org/web")), all.subList(1, 3));

    assertEquals(List.of(Tlv.text(Tlv.CLIENT_URI, "spiffe://example.org/ns/a/sa/web"),
        Tlv.text(Tlv.CLIENT_URI, "https://id.example.org/web")),
        OnwardProxyHeader.identityTlvs(client.cert(), List.of(ProxyProtocolTlv.CLIENT_URIS)));
    assertEquals(List.of(), OnwardProxyHeader.identityTlvs(client.cert(), List.of()));
  }

  @Test
  void tlvThatWouldOverflowTheLengthFieldIsLeftOutAndTheHeaderStaysValid() throws Exception {
    ProxyHeader base = ProxyHeader.tcp(new InetSocketAddress("127.0.0.1", 40000),
        new InetSocketAddress("127.0.0.1", 443), List.of(SslTlv.of("TLSv1.3", "TLS_AES_128_GCM_SHA256", "alice",
            true, true).toTlv()));
    int room = ProxyHeaderEncoder.v2Room(base);
    Tlv big = new Tlv(Tlv.CLIENT_CERT, new byte[room - 3 - 10]);
    Tlv uri = Tlv.text(Tlv.CLIENT_URI, "spiffe://example.org/too-long-to-fit-after-the-certificate");
    Tlv small = Tlv.text(Tlv.CLIENT_DNS, "a.example");
    long before = OnwardProxyHeader.omittedSoFar();

    List<Tlv> kept = OnwardProxyHeader.fitting(List.of(big, uri, small), room);

    assertEquals(List.of(big), kept, "the certificate fits, the URI after it does not, nor 10 bytes of DNS name");
    assertEquals(before + 2, OnwardProxyHeader.omittedSoFar());
    byte[] encoded = ProxyHeaderEncoder.v2(base.withMoreTlvs(kept));
    assertEquals(16 + 0xFFFF - 10, encoded.length);
    DecodeResult r = new ProxyHeaderDecoder(16 + 0xFFFF).decode(ByteBuffer.wrap(encoded));
    assertTrue(r instanceof DecodeResult.Decoded, "decodes: " + r);
    assertEquals(big, ((DecodeResult.Decoded) r).header().tlv(Tlv.CLIENT_CERT).orElseThrow());
    assertEquals(List.of(small), OnwardProxyHeader.fitting(List.of(uri, small), uri.length() + 2));
  }
}
