// Node ESM resolve hook: @tensorflow/tfjs-core's ESM build (the only build that contains the
// gradient registrations) uses extensionless relative imports, which Node's ESM resolver
// refuses. For relative imports from inside that package only, retry with ".js" / "/index.js".
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (err) {
    const parent = context.parentURL ?? ''
    if (!parent.includes('/@tensorflow/tfjs-core/dist/') || !specifier.startsWith('.')) throw err
    try {
      return await next(`${specifier}.js`, context)
    } catch {
      return next(`${specifier}/index.js`, context)
    }
  }
}
