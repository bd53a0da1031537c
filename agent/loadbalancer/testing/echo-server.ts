// A TCP echo server for the long-lived-connection test (run with `ip netns exec`):
//   node echo-server.js PORT
import { createServer } from "node:net";

const port = Number(process.argv[2]);
createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.pipe(socket);
}).listen(port, () => process.stdout.write(`listening ${port}\n`));
