/**
 * The message handler both WebSocket routes share: binary frames reach `handle` as one Buffer
 * (`ws` may hand over a fragmented message as an array, or an ArrayBuffer); a text frame closes
 * the connection with 1008 WEIR_ERR_SERVER_BODY_MALFORMED, as a malformed body gets a 400.
 */
import type { WebSocket } from 'ws'

export function onBinaryFrames(socket: WebSocket, handle: (data: Buffer) => void): void {
  socket.on('message', (data, isBinary) => {
    if (!isBinary) {
      socket.close(1008, 'WEIR_ERR_SERVER_BODY_MALFORMED')
      return
    }
    handle(Buffer.isBuffer(data) ? data
      : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data))
  })
}
