// sodium-native ships no types; `sodium.ts` narrows the module to the functions it uses.
declare module 'sodium-native'
