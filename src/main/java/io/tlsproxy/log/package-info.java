/**
 * How log lines are written: one line per record on standard error, as text or as one JSON object per line, at the
 * configured level, with the access log's fields typed. It formats what the other packages log and decides nothing
 * about what is logged.
 */
package io.tlsproxy.log;
