// The bench's baseline: a bare Express 5 route that parses the same JSON body and answers 204.
// Run as its own process: node baseline-server.js <port>
import express from 'express';

const app = express();
app.post('/api/webhooks/retell', express.json({ limit: '5mb' }), (req, res) => {
  if (!req.body || typeof req.body !== 'object') {
    res.status(400).end();
    return;
  }
  res.status(204).end();
});
const server = app.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
