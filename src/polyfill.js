// libp2p 3.x (its @libp2p/utils and yamux) calls Promise.withResolvers, which Node 20 lacks.
// Loaded with `node --import` before any other module so streams work under back-pressure.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve
    let reject
    const promise = new this((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}
