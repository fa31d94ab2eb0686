// Real servers for tests and benchmarks, listening on loopback.

/**
 * Listens on 127.0.0.1 on a free port; resolves with the port and a close() that also drops
 * kept-alive connections (so a test never waits on an idle socket).
 */
export async function listenLoopback(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}
