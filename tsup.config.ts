import { copyFileSync, mkdirSync } from 'node:fs'
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  // undici is a devDependency: only its llhttp wasm is bundled, so there are no runtime deps.
  noExternal: [/^undici\//],
  onSuccess: async () => {
    mkdirSync('dist', { recursive: true })
    copyFileSync('THIRD_PARTY_NOTICES.md', 'dist/THIRD_PARTY_NOTICES.md')
  },
})
