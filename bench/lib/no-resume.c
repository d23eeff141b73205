/*
 * Preloaded into wrk for the full-handshake scenario: forget the previous TLS session before each
 * handshake, so that every new connection pays a full handshake instead of resuming.
 * Build: gcc -O2 -shared -fPIC -o no-resume.so no-resume.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

int SSL_connect(SSL *ssl) {
  static int (*real_connect)(SSL *);
  static int (*set_session)(SSL *, SSL_SESSION *);
  static int (*in_before)(const SSL *);
  if (real_connect == NULL) {
    real_connect = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    set_session = (int (*)(SSL *, SSL_SESSION *))dlsym(RTLD_NEXT, "SSL_set_session");
    in_before = (int (*)(const SSL *))dlsym(RTLD_NEXT, "SSL_in_before");
  }
  /* wrk calls SSL_connect again after each WANT_READ; only the first call of a handshake may drop it. */
  if (set_session != NULL && in_before != NULL && in_before(ssl)) {
    set_session(ssl, NULL);
  }
  return real_connect(ssl);
}
