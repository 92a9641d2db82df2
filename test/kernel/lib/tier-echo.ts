// A tier real server for the kernel lab: `node tier-echo.js NAME PORT`. Every connection gets
// "NAME\n" first (so the client knows which real server IPVS chose), then its bytes echoed.
// Prints "ready" once listening; exits on SIGTERM.
import net from 'node:net';

const [name, port] = process.argv.slice(2);
const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  sock.write(`${name}\n`);
  sock.pipe(sock);
});
server.listen({ port: Number(port), host: '0.0.0.0' }, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
