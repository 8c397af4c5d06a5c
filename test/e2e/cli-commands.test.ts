import assert from 'node:assert/strict'
import { chmodSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { runCli, tempDir, tinyModel } from '../helpers/node-process.js'

/**
 * The `commons` binary as a user runs it: exit codes 0 ok / 1 failure / 2 bad usage, one clear
 * line on failure, and `generate` / `models` output. Independent cases run concurrently.
 */

describe('commons CLI', { concurrency: 2 }, () => {
  test('--help exits 0 for start, generate and models', async () => {
    const results = await Promise.all([['start', '--help'], ['generate', '--help'], ['models', '--help']].map((a) => runCli(a)))
    for (const r of results) {
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^Usage: commons (start|generate|models)/)
    }
    assert.match(results[0]!.stdout, /--port <port>/)
    assert.match(results[0]!.stdout, /--cors <origin>/)
    assert.match(results[1]!.stdout, /--max-tokens <n>/)
    assert.match(results[2]!.stdout, /--json/)
  })

  test('bad usage exits 2 with a message naming the flag', async () => {
    const [port, parallel, unknown, missingArg] = await Promise.all([
      runCli(['start', '--port', 'abc']),
      runCli(['start', '--parallel', '0']),
      runCli(['start', '--no-such-flag']),
      runCli(['generate']),
    ])
    assert.equal(port.code, 2)
    assert.match(port.stderr, /--port must be an integer between 0 and 65535, got 'abc'/)
    assert.equal(parallel.code, 2)
    assert.match(parallel.stderr, /--parallel/)
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/)
    assert.equal(missingArg.code, 2)
    assert.match(missingArg.stderr, /missing required argument 'prompt'/)
  })

  test('missing or corrupt model file exits 1 with one clear line', async () => {
    const dir = tempDir()
    try {
      const corrupt = join(dir.path, 'corrupt.gguf')
      writeFileSync(corrupt, 'definitely not a GGUF file')
      const [missing, bad, genMissing] = await Promise.all([
        runCli(['start', '--data-dir', dir.path, '--port', '0', '--model', join(dir.path, 'missing.gguf')]),
        runCli(['start', '--data-dir', dir.path, '--port', '0', '--model', corrupt, '--log-level', 'silent']),
        runCli(['generate', 'hi', '--data-dir', dir.path, '--model', 'no-such-model']),
      ])
      assert.equal(missing.code, 1)
      assert.equal(missing.stderr.trim().split('\n').length, 1)
      assert.match(missing.stderr, /^error: model '.*missing\.gguf' not found/)
      assert.equal(bad.code, 1)
      assert.equal(bad.stderr.trim().split('\n').length, 1)
      assert.match(bad.stderr, /^error: cannot load model .*corrupt\.gguf: .*GGUF/)
      assert.equal(genMissing.code, 1)
      assert.match(genMissing.stderr, /^error: model 'no-such-model' not found/)
    } finally {
      dir.cleanup()
    }
  })

  test('port in use exits 1 with one clear line', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as AddressInfo
    const dir = tempDir()
    try {
      const tiny = await tinyModel()
      const res = await runCli(['start', '--data-dir', dir.path, '--port', String(port), '--model', tiny.path])
      assert.equal(res.code, 1)
      assert.equal(res.stderr.trim(), `error: port ${port} on 127.0.0.1 is already in use (choose another with --port)`)
    } finally {
      blocker.close()
      dir.cleanup()
    }
  })

  test('a group/world-readable key file is refused with a clear message', async () => {
    const dir = tempDir()
    try {
      const created = await runCli(['keys', 'show', '--data-dir', dir.path])
      assert.equal(created.code, 0)
      const keyFile = join(dir.path, 'key.json')
      chmodSync(keyFile, 0o644)
      const res = await runCli(['start', '--data-dir', dir.path, '--port', '0'])
      assert.equal(res.code, 1)
      assert.equal(res.stderr.trim().split('\n').length, 1)
      assert.match(res.stderr, /key file .*key\.json has mode 644; it must not be readable by group or others \(chmod 600 /)
    } finally {
      dir.cleanup()
    }
  })

  test('generate streams text; --json with a seed is deterministic; models lists the model', async () => {
    const dir = tempDir()
    try {
      const tiny = await tinyModel()
      const args = ['generate', 'Commons is', '--data-dir', dir.path, '--model', tiny.path, '--max-tokens', '8', '--seed', '9', '--threads', '1']
      const [a, b, streamed] = await Promise.all([runCli([...args, '--json']), runCli([...args, '--json']), runCli(args)])
      assert.equal(a.code, 0, a.stderr)
      const ja = JSON.parse(a.stdout)
      const jb = JSON.parse(b.stdout)
      assert.equal(ja.seed, 9)
      assert.equal(ja.sha256, tiny.sha256)
      assert.equal(ja.usage.completion_tokens, 8)
      assert.equal(ja.text, jb.text)
      assert.equal(streamed.code, 0, streamed.stderr)
      assert.equal(streamed.stdout, `${ja.text}\n`)

      const models = await runCli(['models', '--json', '--data-dir', dir.path])
      assert.equal(models.code, 0, models.stderr)
      assert.ok(Array.isArray(JSON.parse(models.stdout)))
    } finally {
      dir.cleanup()
    }
  })
})
