/**
 * Rebuilds the pinned training corpus `data/kjv.txt` from Debian's `bible-kjv-text` package.
 *
 * The package ships the King James Version (public domain) in the Bible Retrieval System's
 * compressed format (`/usr/lib/bible.data`); its `bible` program (package `bible-kjv`) is the
 * only decoder, so we run it over the whole text (Genesis 1:1 – Revelation 22:21) with
 * pretty-printing off (`-f`: one verse per line, prefixed by its reference), strip the
 * reference and write one verse per line. See `data/SOURCE.md`.
 *
 * Usage: `node --import tsx scripts/rebuild-corpus.ts [--check]`
 *   (needs `apt-get install bible-kjv bible-kjv-text`). `--check` only compares with the
 *   committed copy and exits 1 if they differ.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const corpusPath = join(root, 'data', 'kjv.txt')
const licensePath = join(root, 'data', 'LICENSE-kjv.txt')

const raw = execFileSync('bible', ['-f', 'gen1:1-rev22:21'], { encoding: 'utf8', maxBuffer: 64 << 20 })
// Each line is "<Book><chapter>:<verse> <text>"; the reference is metadata, not prose.
const lines = raw.split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^\S+ /, ''))
const text = lines.join('\n') + '\n'
const sha = createHash('sha256').update(text).digest('hex')

if (process.argv.includes('--check')) {
  const committed = readFileSync(corpusPath, 'utf8')
  const ok = committed === text
  console.log(JSON.stringify({ ok, verses: lines.length, bytes: Buffer.byteLength(text), sha256: sha }))
  process.exit(ok ? 0 : 1)
}
writeFileSync(corpusPath, text)
copyFileSync('/usr/share/doc/bible-kjv-text/copyright', licensePath)
writeFileSync(join(root, 'data', 'kjv.txt.sha256'), `${sha}  kjv.txt\n`)
console.log(JSON.stringify({ wrote: corpusPath, verses: lines.length, bytes: Buffer.byteLength(text), sha256: sha }))
