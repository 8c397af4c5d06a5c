import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, getJson } from './api.js'

export interface Loaded<T> {
  data: T | null
  error: string | null
  loading: boolean
  reload: () => void
}

/** Fetches JSON from `path`, again every `intervalMs` when given (live views), and on `reload()`. */
export function useJson<T>(path: string | null, intervalMs?: number): Loaded<T> {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(path !== null)
  const [tick, setTick] = useState(0)
  useEffect(() => {
    if (path === null) return
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const load = async (): Promise<void> => {
      try {
        const value = await getJson<T>(path, controller.signal)
        setData(value)
        setError(null)
      } catch (err) {
        if (controller.signal.aborted) return
        setError(err instanceof ApiError ? err.message : 'the node did not answer')
      } finally {
        if (!controller.signal.aborted) {
          setLoading(false)
          if (intervalMs !== undefined) timer = setTimeout(() => void load(), intervalMs)
        }
      }
    }
    void load()
    return () => {
      controller.abort()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [path, intervalMs, tick])
  return { data, error, loading, reload: () => setTick((t) => t + 1) }
}

/** State persisted in localStorage under `key` (conversations stay in the browser). */
export function useStored<T>(key: string, initial: T): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = localStorage.getItem(key)
      return raw === null ? initial : (JSON.parse(raw) as T)
    } catch {
      return initial
    }
  })
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    try {
      localStorage.setItem(key, JSON.stringify(value))
    } catch {
      // storage full or disabled: the conversation still works for this page's lifetime
    }
  }, [key, value])
  return [value, setValue]
}

/** The part of location.hash after '#', e.g. 'log/12'. Updates on navigation. */
export function useHashRoute(): string {
  const read = (): string => decodeURIComponent(location.hash.replace(/^#\/?/, ''))
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const onChange = (): void => setRoute(read())
    addEventListener('hashchange', onChange)
    return () => removeEventListener('hashchange', onChange)
  }, [])
  return route
}
