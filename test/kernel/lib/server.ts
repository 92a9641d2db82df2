// A real server for the kernel lab, started inside a network namespace by topology.ts:
//   node server.js NAME HTTP_PORT ECHO_PORT
// HTTP: every request is answered with NAME as the body. `Connection: close`, so each fetch is
// a new TCP connection and therefore a new IPVS scheduling decision. The client's address as
// the server saw it goes in the X-Client-Addr header (NAT keeps it, a proxy would not).
// Echo: connections stay open and every byte comes back (long-lived connection tests).
// Prints "ready" on stdout once both ports listen; exits on SIGTERM.
import http from 'node:http';
import net from 'node:net';

const [name, httpPort, echoPort] = process.argv.slice(2);
if (!name || !httpPort || !echoPort) {
  process.stderr.write('usage: node server.js NAME HTTP_PORT ECHO_PORT\n');
  process.exit(2);
}

const web = http.createServer((req, res) => {
  res.setHeader('Connection', 'close');
  res.setHeader('X-Served-By', name);
  res.setHeader('X-Client-Addr', req.socket.remoteAddress ?? '');
  res.end(name);
});
const echo = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  sock.pipe(sock);
});

function listen(server: net.Server, port: number): Promise<void> {
  // '::' with ipv6Only false listens on IPv4 and IPv6 alike.
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '::', ipv6Only: false }, () => resolve());
  });
}

try {
  await Promise.all([listen(web, Number(httpPort)), listen(echo, Number(echoPort))]);
} catch (err) {
  process.stderr.write(`server ${name}: ${(err as Error).message}\n`);
  process.exit(1);
}
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('ready\n');
