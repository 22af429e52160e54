/**
 * Goal: layers depend downward only (DESIGN.md, STYLE.md) and production code never imports the
 * test kit. Method: scan every import in src/, map both ends to their layer and check the edge.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const srcRoot = resolve(import.meta.dirname, '../src')

/**
 * Lower rank = lower layer. Files at the src root (errors, limits) sit just above util. The
 * example apps in `topologies/` (outside src) sit between the public entry and the CLI, which runs
 * one of them as its main job: only `cli` may import them.
 */
const layerRank: Record<string, number> = {
  util: 0, root: 1, log: 2, broker: 3, group: 4, txn: 4, protocol: 5, client: 6, server: 6,
  state: 7, streams: 8, es: 9, testing: 10, index: 11, topologies: 12, cli: 13,
}

function layerOf(file: string): string {
  const path = relative(srcRoot, file)
  if (path === 'index.ts') return 'index'
  if (path.startsWith('../topologies/')) return 'topologies'
  const first = path.split('/')[0]!
  return path.includes('/') ? first : 'root'
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap(name => {
    const path = join(directory, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map(m => m[1]!)
  return specifiers.map(specifier => resolve(dirname(file), specifier))
}

describe('architecture', () => {
  it('every import in src points to the same or a lower layer, and never to src/testing', () => {
    const violations: string[] = []
    const files = sourceFiles(srcRoot)
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      const from = layerOf(file)
      for (const target of importsOf(file)) {
        const to = layerOf(target)
        expect(layerRank[from], `unknown layer of ${file}`).toBeDefined()
        expect(layerRank[to], `unknown layer of ${target}`).toBeDefined()
        const upward = layerRank[to]! > layerRank[from]!
        const intoTestKit = to === 'testing' && from !== 'testing'
        if (upward || intoTestKit) {
          violations.push(`${relative(srcRoot, file)} → ${relative(srcRoot, target)}`)
        }
      }
    }
    expect(violations).toEqual([])
  })
})
