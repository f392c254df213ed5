import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  CloseSessionRequest,
  DownloadAckRequest,
  OpenSessionRequest,
  SyncResult,
  UploadCompleteRequest,
} from '@outpost/contracts';

/*
 * The agent API's JSON bodies as the OpenAPI document shows them. The gateway checks them with the
 * hand-written parsers beside each controller (their messages are part of the agent's contract).
 */

export class OpenSessionBody implements OpenSessionRequest {
  @ApiProperty({ example: 'bob-laptop' }) client!: string;
  @ApiProperty({ description: 'the client secret issued by sync-admin clients add' }) secret!: string;
  @ApiProperty({ example: '0.1.0' }) agentVersion!: string;
  @ApiProperty({ description: 'the DX format version the agent writes', example: 1 }) formatVersion!: number;
}

export class SyncResultBody implements SyncResult {
  @ApiProperty() ok!: boolean;
  @ApiProperty() uploadedFiles!: number;
  @ApiProperty() downloadedFiles!: number;
  @ApiPropertyOptional({ maxLength: 2000 }) message?: string;
}

export class CloseSessionBody implements CloseSessionRequest {
  @ApiProperty({ type: SyncResultBody }) result!: SyncResultBody;
}

export class DownloadAckBody implements DownloadAckRequest {
  @ApiProperty({ description: 'the extract epoch the files belong to' }) epoch!: number;
  @ApiProperty({ description: 'every file up to this one is applied (cumulative)' }) upToFileSeq!: number;
}

export class UploadCompleteBody implements UploadCompleteRequest {
  @ApiProperty({ description: 'sha256 of the whole file, 64 hex digits' }) sha256!: string;
  @ApiProperty({ description: 'size of the whole file in bytes; the parts held must make exactly this' })
  size!: number;
}
