// Vite bundles CSS imported from modules; TypeScript only needs to know the import is valid.
declare module '*.css'
