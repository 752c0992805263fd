// The strictgate command line with --access-log (one line per exchange, to a file): compare with
// strictgate-cli in the same run (see strictgate-cli.mjs).
import { cliSystem } from './strictgate-cli.mjs'

export default cliSystem('strictgate-cli-access-log', 2.2, ['--access-log'])
