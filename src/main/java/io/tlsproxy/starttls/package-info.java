/**
 * In-band TLS upgrades of protocols that begin in plaintext (SMTP, IMAP, POP3, and the databases): one small,
 * bounded state machine per protocol and role, fed the bytes one peer sent and answering with a {@link
 * io.tlsproxy.starttls.Step}: read more, send these bytes, start TLS now, fail for a reason, or hand over to the
 * relay. It touches no socket, channel or timer; the relay drives it and owns the connection.
 */
package io.tlsproxy.starttls;
