// The baseline for `npm run bench`: a bare node:http server, run as its own process, that reads the
// request body and answers every request with one fixed JSON body (given in BARE_BODY) and the same
// response headers Lockstep sends. Same http.createServer options as src/server/app.ts.
import { createServer } from 'node:http';

const body = Buffer.from(process.env.BARE_BODY ?? '{"ok":true}', 'utf8');
const headers = {
  'content-type': 'application/x-amz-json-1.1',
  'content-length': body.length,
  'x-amzn-requestid': '00000000-0000-4000-8000-000000000000',
};
const server = createServer(
  { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 },
  (req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  },
);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ msg: 'bare server listening', url: `http://127.0.0.1:${port}` }) + '\n');
});
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
