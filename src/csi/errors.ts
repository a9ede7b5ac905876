// A refused CSI call: the gRPC status the spec names for the case, and a message the CO shows its
// user (kubectl describe pod prints it as is). Never holds a secret.
import { status } from '@grpc/grpc-js'

export { status as Code }

export class CsiError extends Error {
  readonly code = 'ERR_CSI'
  constructor(readonly grpcCode: status, message: string) {
    super(message)
    this.name = 'CsiError'
  }
}

export const invalid = (message: string): CsiError => new CsiError(status.INVALID_ARGUMENT, message)
export const notFound = (message: string): CsiError => new CsiError(status.NOT_FOUND, message)
export const alreadyExists = (message: string): CsiError => new CsiError(status.ALREADY_EXISTS, message)
