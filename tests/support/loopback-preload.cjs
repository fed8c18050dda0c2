// Loaded with `node -r` in front of node servers the tests start (server-everything listens on
// all interfaces). Every listening socket is moved to 127.0.0.1, and once it listens the actual
// address goes to stderr as `LISTENING 127.0.0.1:PORT`, so a test can ask for PORT=0.
"use strict";
const net = require("net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === "object") {
    args[0] = { ...first, host: "127.0.0.1" };
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    const callback = args.find((a) => typeof a === "function");
    args = callback ? [Number(first), "127.0.0.1", callback] : [Number(first), "127.0.0.1"];
  }
  this.once("listening", () => {
    const addr = this.address();
    if (addr && typeof addr === "object") {
      process.stderr.write(`LISTENING ${addr.address}:${addr.port}\n`);
    }
  });
  return listen.apply(this, args);
};
