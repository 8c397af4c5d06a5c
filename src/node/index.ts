/** The composition root: one Commons node built from its config. */
export { createNode, type CommonsNode, type NodeContext, type NodeDeps } from './node.js'
export { NodeConfigSchema, parseNodeConfig, type NodeConfig, type NodeConfigInput } from './config.js'
export { Lifecycle, type NodeComponent, type Startable } from './lifecycle.js'
export { resolveModel, type ResolvedModel, type TinyModelProvider } from './resolve-model.js'
export { listLocalModels, modelDirs, DEMO_MODEL_PATH, PACKAGE_ROOT, type LocalModel } from './local-models.js'
export { resolveDataDir } from './datadir.js'
export * from './errors.js'
