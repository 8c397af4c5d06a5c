/** Byte-level BPE tokenizer that llama.cpp loads as `gpt2` / `qwen2`, with identical token ids. */
export { BYTE_TO_CHAR, bytesToSymbol, symbolToBytes } from './byte-unicode.js'
export { preTokenize, splitQwen2 } from './pretokenize.js'
export { DEFAULT_SPECIALS, TokenType, buildVocabulary, tokenizerSpecSchema, type TokenizerSpec, type Vocabulary } from './spec.js'
export { BpeTokenizer } from './bpe.js'
export { learnMerges } from './learn.js'
export { TOKENIZER_MODEL, TOKENIZER_PRE, readTokenizerSpec, writeTokenizerMetadata } from './metadata.js'
