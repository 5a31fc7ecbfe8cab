// A fake xDS server for tests: grpc-js serving AggregatedDiscoveryService/StreamAggregatedResources on
// a Unix socket (`unix:///abs/path`, a fake pilot-agent) or TCP (`127.0.0.1:0`, a fake istiod). It
// records each stream's requests, decoded with the independent descriptor of xds-descriptor.ts, and
// lets the test write responses.
import * as grpc from '@grpc/grpc-js';
import { ADS_METHOD } from '../../lab/node-agent/envoy-stand-in.js';
import {
  type ReferenceRequest,
  type ReferenceResponse,
  referenceDecodeRequest,
  referenceEncodeResponse,
} from './xds-descriptor.js';

export interface FakeAdsStream {
  readonly requests: ReferenceRequest[];
  /** The stream's request metadata (gRPC headers). */
  readonly headers: Record<string, unknown>;
  send(response: ReferenceResponse): void;
  /** Resolves when the client ended or cancelled the stream. */
  readonly ended: Promise<void>;
}

export interface FakeAdsServer {
  readonly streams: FakeAdsStream[];
  /** The port bound, for a TCP address (meaningless for a Unix socket). */
  readonly port: number;
  stop(): Promise<void>;
}

const passThrough = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (bytes: Buffer) => bytes,
};

export async function startFakeAdsServer(address: string): Promise<FakeAdsServer> {
  const streams: FakeAdsStream[] = [];
  const server = new grpc.Server();
  server.addService(
    {
      StreamAggregatedResources: {
        path: ADS_METHOD,
        requestStream: true,
        responseStream: true,
        ...passThrough,
      },
    },
    {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const requests: ReferenceRequest[] = [];
        const ended = new Promise<void>((resolve) => {
          call.on('end', () => resolve());
          call.on('cancelled', () => resolve());
          call.on('error', () => resolve());
        });
        call.on('data', (bytes: Buffer) => requests.push(referenceDecodeRequest(bytes)));
        streams.push({
          requests,
          headers: call.metadata.getMap(),
          ended,
          send: (response) => call.write(Buffer.from(referenceEncodeResponse(response))),
        });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    streams,
    port,
    stop: async () => {
      server.forceShutdown();
    },
  };
}
