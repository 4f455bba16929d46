#!/usr/bin/env python3
"""A loopback HTTPS server with a self-signed certificate, for the TLS row of the reliability
suite. Answers 200 "{}" to every request. Prints "PORT <n>" first, then one line per event:
"REQUEST <method> <path>" for each HTTP request it read (only possible after a TLS handshake
the client accepted), "HANDSHAKE_FAIL <reason>" for each refused handshake. Stops when stdin
closes. Usage: tls_server.py <cert.pem> <key.pem>
"""
import http.server
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        print(f"REQUEST {self.command} {self.path}", flush=True)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, addr = self.socket.accept()
        try:
            return self.ctx.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError) as e:
            print(f"HANDSHAKE_FAIL {e}", flush=True)
            sock.close()
            raise


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv = Server(("127.0.0.1", 0), Handler)
    srv.ctx = ctx
    print(f"PORT {srv.server_address[1]}", flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()
    srv.shutdown()


if __name__ == "__main__":
    main()
