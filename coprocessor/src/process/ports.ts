import { createServer } from "node:net";

/** A free TCP port on loopback: bound, read, released (another process could take it in between; fine for tests). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        return reject(new Error("the system gave no port"));
      }
      server.close(() => resolve(address.port));
    });
  });
}
