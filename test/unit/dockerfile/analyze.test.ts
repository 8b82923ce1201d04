import { analyzeDockerfile, runtimeBase, triggeringBases, type AnalyzeOptions } from '../../../lib/dockerfile/analyze';
import { DockerfileError } from '../../../lib/domain/errors';
import { formatImageReference } from '../../../lib/images/reference';

const DIGEST = 'sha256:' + 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';

/** [canonical reference, stage, pinned, stageIndex, line] */
type BaseRow = [string, 'runtime' | 'build-time', boolean, number, number];

function baseRows(text: string, args: Record<string, string> = {}, opts: AnalyzeOptions = {}): BaseRow[] {
  return analyzeDockerfile(text, args, opts).bases.map((b) => [
    formatImageReference(b.image),
    b.stage,
    b.pinned,
    b.stageIndex,
    b.line,
  ]);
}

function lines(...l: string[]): string {
  return l.join('\n') + '\n';
}

describe('analyzeDockerfile: the tutorial', () => {
  const dockerfileApp = lines(
    'ARG REGISTRY_NAME',
    'FROM ${REGISTRY_NAME}/baseimages/node:9-alpine',
    'COPY . /src',
    'RUN cd /src && npm install',
    'EXPOSE 80',
    'CMD ["node", "/src/server.js"]',
  );

  it('resolves the base registry from the build arg', () => {
    expect(analyzeDockerfile(dockerfileApp, { REGISTRY_NAME: '127.0.0.1:5001' })).toStrictEqual({
      stages: [
        {
          index: 0,
          from: '127.0.0.1:5001/baseimages/node:9-alpine',
          kind: 'image',
          image: { registry: '127.0.0.1:5001', repository: 'baseimages/node', tag: '9-alpine' },
          pinned: false,
          line: 2,
        },
      ],
      bases: [
        {
          image: { registry: '127.0.0.1:5001', repository: 'baseimages/node', tag: '9-alpine' },
          stage: 'runtime',
          pinned: false,
          stageIndex: 0,
          line: 2,
        },
      ],
      unresolvedArgs: [],
      finalStage: 0,
    });
  });

  it('names the line and the ARG when the build arg is missing', () => {
    expect(() => analyzeDockerfile(dockerfileApp, {})).toThrow(
      'Dockerfile line 2: invalid image reference "/baseimages/node:9-alpine": repository "/baseimages/node" has an empty path component (a leading, trailing or doubled "/") (ARG REGISTRY_NAME has no default and no build arg REGISTRY_NAME was given)',
    );
  });
});

describe('analyzeDockerfile: bases', () => {
  test.each<[string, string, Record<string, string>, AnalyzeOptions, BaseRow[]]>([
    ['single image', lines('FROM node:20', 'CMD ["node"]'), {}, {}, [['docker.io/library/node:20', 'runtime', false, 0, 1]]],
    ['no tag means latest', 'FROM alpine', {}, {}, [['docker.io/library/alpine:latest', 'runtime', false, 0, 1]]],
    ['no trailing newline, CRLF and BOM', '\uFEFF# comment\r\nFROM alpine:3.19\r\nRUN true', {}, {}, [['docker.io/library/alpine:3.19', 'runtime', false, 0, 2]]],
    ['lower-case instructions', lines('from node:20 as build', 'run npm ci', 'from nginx:1.25'), {}, {}, [
      ['docker.io/library/node:20', 'build-time', false, 0, 1],
      ['docker.io/library/nginx:1.25', 'runtime', false, 1, 3],
    ]],
    ['mixed-case AS and stage name', lines('FROM golang:1.22 As Builder', 'FROM BUILDER'), {}, {}, [
      ['docker.io/library/golang:1.22', 'runtime', false, 0, 1],
    ]],
    ['multi-stage: final base is runtime, others build-time', lines(
      'FROM golang:1.22-alpine AS build',
      'WORKDIR /src',
      'RUN go build -o /app .',
      '',
      'FROM gcr.io/distroless/static-debian12',
      'COPY --from=build /app /app',
    ), {}, {}, [
      ['docker.io/library/golang:1.22-alpine', 'build-time', false, 0, 1],
      ['gcr.io/distroless/static-debian12:latest', 'runtime', false, 1, 5],
    ]],
    ['final stage built from an earlier stage follows the alias', lines(
      'FROM node:20 AS build',
      'RUN npm ci',
      'FROM build AS final',
      'CMD ["node", "index.js"]',
    ), {}, {}, [['docker.io/library/node:20', 'runtime', false, 0, 1]]],
    ['alias chain over several stages', lines(
      'FROM python:3.12-slim AS base',
      'FROM base AS deps',
      'FROM rust:1.77 AS tools',
      'FROM deps AS final',
    ), {}, {}, [
      ['docker.io/library/python:3.12-slim', 'runtime', false, 0, 1],
      ['docker.io/library/rust:1.77', 'build-time', false, 2, 3],
    ]],
    ['scratch final stage has no runtime base', lines(
      'FROM golang:1.22 AS build',
      'RUN CGO_ENABLED=0 go build -o /app',
      'FROM scratch',
      'COPY --from=build /app /app',
    ), {}, {}, [['docker.io/library/golang:1.22', 'build-time', false, 0, 1]]],
    ['a base used as runtime and build-time is runtime', lines(
      'FROM alpine:3.19 AS fetch',
      'RUN wget -O /x https://example.com/x',
      'FROM node:20 AS build',
      'FROM alpine:3.19',
      'COPY --from=fetch /x /x',
    ), {}, {}, [
      ['docker.io/library/alpine:3.19', 'runtime', false, 2, 4],
      ['docker.io/library/node:20', 'build-time', false, 1, 3],
    ]],
    ['same image written two ways is one base', lines('FROM node:20 AS a', 'FROM docker.io/library/node:20'), {}, {}, [
      ['docker.io/library/node:20', 'runtime', false, 1, 2],
    ]],
    ['digest-pinned FROM is pinned', `FROM node:20@${DIGEST}`, {}, {}, [[`docker.io/library/node:20@${DIGEST}`, 'runtime', true, 0, 1]]],
    ['digest only', `FROM alpine@${DIGEST} AS a\nFROM a`, {}, {}, [[`docker.io/library/alpine@${DIGEST}`, 'runtime', true, 0, 1]]],
    ['a stage name that looks like an image is the stage', lines('FROM alpine:3.19 AS node', 'FROM node'), {}, {}, [
      ['docker.io/library/alpine:3.19', 'runtime', false, 0, 1],
    ]],
    ['a later stage name is not a stage reference', lines('FROM base', 'FROM alpine AS base'), {}, {}, [
      ['docker.io/library/base:latest', 'build-time', false, 0, 1],
      ['docker.io/library/alpine:latest', 'runtime', false, 1, 2],
    ]],
    ['stage name with a tag is an image', lines('FROM alpine AS build', 'FROM build:1'), {}, {}, [
      ['docker.io/library/alpine:latest', 'build-time', false, 0, 1],
      ['docker.io/library/build:1', 'runtime', false, 1, 2],
    ]],
    ['--platform flag', lines(
      'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
      'ARG TARGETOS TARGETARCH',
      'FROM --platform=linux/amd64 alpine:3.19',
    ), {}, {}, [
      ['docker.io/library/golang:1.22', 'build-time', false, 0, 1],
      ['docker.io/library/alpine:3.19', 'runtime', false, 1, 3],
    ]],
    ['global ARG default', lines('ARG NODE_VERSION=18', 'FROM node:${NODE_VERSION}-alpine'), {}, {}, [
      ['docker.io/library/node:18-alpine', 'runtime', false, 0, 2],
    ]],
    ['build arg overrides a default', lines('ARG NODE_VERSION=18', 'FROM node:$NODE_VERSION'), { NODE_VERSION: '20' }, {}, [
      ['docker.io/library/node:20', 'runtime', false, 0, 2],
    ]],
    ['build arg with empty value overrides a default', lines('ARG SUFFIX=-alpine', 'FROM node:20${SUFFIX}'), { SUFFIX: '' }, {}, [
      ['docker.io/library/node:20', 'runtime', false, 0, 2],
    ]],
    ['defaults may use earlier ARGs', lines('ARG REGISTRY=ghcr.io/acme', 'ARG BASE=${REGISTRY}/base', 'FROM $BASE:1'), {}, {}, [
      ['ghcr.io/acme/base:1', 'runtime', false, 0, 3],
    ]],
    ['build arg for an earlier ARG feeds a later default', lines('ARG REGISTRY=ghcr.io/acme', 'ARG BASE=${REGISTRY}/base', 'FROM $BASE:1'), { REGISTRY: '127.0.0.1:5000' }, {}, [
      ['127.0.0.1:5000/base:1', 'runtime', false, 0, 3],
    ]],
    ['several ARGs on one line, quoted default', lines('ARG A=alpine B="3.19"', 'FROM ${A}:${B}'), {}, {}, [
      ['docker.io/library/alpine:3.19', 'runtime', false, 0, 2],
    ]],
    ['${VAR:-default} when unset', lines('ARG TAG', 'FROM node:${TAG:-lts}'), {}, {}, [['docker.io/library/node:lts', 'runtime', false, 0, 2]]],
    ['${VAR:-default} when empty', lines('ARG TAG=', 'FROM node:${TAG:-lts}'), {}, {}, [['docker.io/library/node:lts', 'runtime', false, 0, 2]]],
    ['${VAR:-default} when set', lines('ARG TAG', 'FROM node:${TAG:-lts}'), { TAG: '21' }, {}, [['docker.io/library/node:21', 'runtime', false, 0, 2]]],
    ['${VAR-default} keeps an empty value', lines('ARG SUFFIX=', 'FROM node:20${SUFFIX-alpine}'), {}, {}, [['docker.io/library/node:20', 'runtime', false, 0, 2]]],
    ['${VAR:+alt} when set', lines('ARG SLIM', 'FROM python:3.12${SLIM:+-slim}'), { SLIM: '1' }, {}, [['docker.io/library/python:3.12-slim', 'runtime', false, 0, 2]]],
    ['${VAR:+alt} when unset', lines('ARG SLIM', 'FROM python:3.12${SLIM:+-slim}'), {}, {}, [['docker.io/library/python:3.12', 'runtime', false, 0, 2]]],
    ['nested default', lines('ARG A', 'ARG B=from-b', 'FROM alpine:${A:-${B}}'), {}, {}, [['docker.io/library/alpine:from-b', 'runtime', false, 0, 3]]],
    ['ARG inside a stage does not affect FROM', lines(
      'ARG V=3.18',
      'FROM alpine:$V AS one',
      'ARG V=3.19',
      'FROM alpine:$V',
    ), {}, {}, [['docker.io/library/alpine:3.18', 'runtime', false, 1, 4]]],
    ['ARG only in a stage is unset for later FROMs', lines(
      'FROM alpine AS one',
      'ARG TAG=3.19',
      'FROM node:20${TAG}',
    ), { TAG: '-x' }, {}, [
      ['docker.io/library/alpine:latest', 'build-time', false, 0, 1],
      ['docker.io/library/node:20', 'runtime', false, 1, 3],
    ]],
    ['line continuation', lines('FROM \\', '    node:20 \\', '    AS build', 'FROM build'), {}, {}, [
      ['docker.io/library/node:20', 'runtime', false, 0, 1],
    ]],
    ['continuation with trailing spaces', 'FROM \\  \t\n  alpine:3.19 AS a\nFROM a\n', {}, {}, [
      ['docker.io/library/alpine:3.19', 'runtime', false, 0, 1],
    ]],
    ['an escaped escape at the end does not continue', lines('FROM alpine AS a', 'RUN echo c:\\\\', 'FROM node:20'), {}, {}, [
      ['docker.io/library/alpine:latest', 'build-time', false, 0, 1],
      ['docker.io/library/node:20', 'runtime', false, 1, 3],
    ]],
    ['a continued RUN swallows the next line', lines('FROM alpine AS a', 'RUN echo \\', 'FROM node:20'), {}, {}, [
      ['docker.io/library/alpine:latest', 'runtime', false, 0, 1],
    ]],
    ['comments and blank lines inside a continuation', lines(
      'ARG X=1',
      'FROM \\',
      '# the image',
      '',
      '  alpine:3.19',
    ), {}, {}, [['docker.io/library/alpine:3.19', 'runtime', false, 0, 2]]],
    ['backtick escape directive (Windows)', lines(
      '# escape=`',
      '',
      'FROM mcr.microsoft.com/windows/servercore:ltsc2022 `',
      '  AS build',
      'COPY . C:\\app\\',
      'FROM build',
    ), {}, {}, [['mcr.microsoft.com/windows/servercore:ltsc2022', 'runtime', false, 0, 3]]],
    ['syntax then escape directives', lines(
      '# syntax=docker/dockerfile:1',
      '# escape=`',
      'FROM alpine:3.19 `',
      '  AS a',
      'FROM a',
    ), {}, {}, [['docker.io/library/alpine:3.19', 'runtime', false, 0, 3]]],
    ['escape directive after a comment is only a comment', lines(
      '# my image',
      '# escape=`',
      'FROM alpine:3.19 \\',
      '  AS a',
      'FROM a',
    ), {}, {}, [['docker.io/library/alpine:3.19', 'runtime', false, 0, 3]]],
    ['heredoc in RUN hides FROM lines in its body', lines(
      'FROM python:3.12 AS build',
      'RUN <<EOF',
      'FROM evil:latest',
      'pip install -r requirements.txt',
      'EOF',
      'COPY <<-"EOT" /etc/app.conf',
      '\tFROM also:ignored',
      '\tEOT',
      'FROM build',
    ), {}, {}, [['docker.io/library/python:3.12', 'runtime', false, 0, 1]]],
    ['two heredocs in one RUN', lines(
      'FROM alpine AS a',
      'RUN <<A cat && <<B cat',
      'FROM x',
      'A',
      'FROM y',
      'B',
      'FROM a',
    ), {}, {}, [['docker.io/library/alpine:latest', 'runtime', false, 0, 1]]],
    ['quoted << in RUN is not a heredoc', lines('FROM alpine AS a', 'RUN echo "<<EOF"', 'FROM node:20'), {}, {}, [
      ['docker.io/library/alpine:latest', 'build-time', false, 0, 1],
      ['docker.io/library/node:20', 'runtime', false, 1, 3],
    ]],
    ['exec-form RUN with << is not a heredoc', lines('FROM alpine AS a', 'RUN ["sh", "-c", "cat", "<<EOF"]', 'FROM node:20'), {}, {}, [
      ['docker.io/library/alpine:latest', 'build-time', false, 0, 1],
      ['docker.io/library/node:20', 'runtime', false, 1, 3],
    ]],
    ['target stage stops the build', lines(
      'FROM node:20 AS deps',
      'FROM deps AS test',
      'FROM nginx:1.25 AS prod',
    ), {}, { targetStage: 'TEST' }, [['docker.io/library/node:20', 'runtime', false, 0, 1]]],
    ['target stage in the middle keeps earlier build-time bases', lines(
      'FROM golang:1.22 AS build',
      'FROM alpine:3.19 AS release',
      'FROM debian:12 AS debug',
    ), {}, { targetStage: 'release' }, [
      ['docker.io/library/golang:1.22', 'build-time', false, 0, 1],
      ['docker.io/library/alpine:3.19', 'runtime', false, 1, 2],
    ]],
    ['automatic TARGET* args from the platform', lines('FROM --platform=$TARGETPLATFORM ghcr.io/acme/base-${TARGETARCH}${TARGETVARIANT:+-}${TARGETVARIANT}:1'), {}, { platform: 'linux/arm/v7' }, [
      ['ghcr.io/acme/base-arm-v7:1', 'runtime', false, 0, 1],
    ]],
    ['declaring an automatic arg without a value keeps it', lines('ARG TARGETOS', 'FROM ghcr.io/acme/${TARGETOS}:1'), {}, { platform: 'linux/amd64' }, [
      ['ghcr.io/acme/linux:1', 'runtime', false, 0, 2],
    ]],
    ['quotes around the image are removed', lines('ARG TAG=3.19', 'FROM "alpine:${TAG}"'), {}, {}, [['docker.io/library/alpine:3.19', 'runtime', false, 0, 2]]],
  ])('%s', (_label, text, args, opts, expected) => {
    expect(baseRows(text, args, opts)).toStrictEqual(expected);
  });

  it('records the stages with their names, platforms and links', () => {
    const analysis = analyzeDockerfile(
      lines(
        'ARG GO=1.22',
        'FROM --platform=$BUILDPLATFORM golang:${GO} AS Build',
        'RUN go build',
        'FROM build AS test',
        'FROM scratch',
        'COPY --from=build /app /app',
      ),
      {},
    );
    expect(analysis.stages).toStrictEqual([
      {
        index: 0,
        name: 'build',
        from: 'golang:1.22',
        platform: '$BUILDPLATFORM',
        kind: 'image',
        image: { registry: 'docker.io', repository: 'library/golang', tag: '1.22' },
        pinned: false,
        line: 2,
      },
      { index: 1, name: 'test', from: 'build', kind: 'stage', baseStage: 0, pinned: false, line: 4 },
      { index: 2, from: 'scratch', kind: 'scratch', pinned: false, line: 5 },
    ]);
    expect(analysis.finalStage).toBe(2);
    expect(analysis.bases).toStrictEqual([
      {
        image: { registry: 'docker.io', repository: 'library/golang', tag: '1.22' },
        stage: 'build-time',
        pinned: false,
        stageIndex: 0,
        line: 2,
      },
    ]);
    expect(runtimeBase(analysis)).toBeUndefined();
  });

  it('substitutes known ARGs in --platform and keeps automatic ones as written', () => {
    const analysis = analyzeDockerfile(lines('ARG OS=linux', 'FROM --platform=${OS}/$BUILDARCH alpine'), {});
    expect(analysis.stages[0]?.platform).toBe('linux/$BUILDARCH');
  });
});

describe('analyzeDockerfile: unresolved ARGs', () => {
  test.each<[string, string, Record<string, string>, string[], string[]]>([
    ['declared without default', lines('ARG SUFFIX', 'FROM node:20${SUFFIX}'), {}, ['docker.io/library/node:20'], ['SUFFIX']],
    ['never declared', lines('FROM node:20$SUFFIX'), {}, ['docker.io/library/node:20'], ['SUFFIX']],
    ['passed as build arg but not declared', lines('FROM node:20$SUFFIX'), { SUFFIX: '-alpine' }, ['docker.io/library/node:20'], ['SUFFIX']],
    ['unset with a default form is resolved', lines('ARG T', 'FROM node:${T:-20}'), {}, ['docker.io/library/node:20'], []],
    ['unset inside an unused :+ alternative is not reported', lines('ARG A', 'FROM node:20${A:+$B}'), {}, ['docker.io/library/node:20'], []],
    ['unset inside a used :- default is reported', lines('ARG A', 'FROM node:20${A:-$B}'), {}, ['docker.io/library/node:20'], ['B']],
    ['each name once, in order', lines('FROM node:20$X$Y AS a', 'FROM alpine$Y$Z'), {}, ['docker.io/library/node:20', 'docker.io/library/alpine:latest'], ['X', 'Y', 'Z']],
  ])('%s', (_label, text, args, bases, unresolved) => {
    const analysis = analyzeDockerfile(text, args);
    expect(analysis.bases.map((b) => formatImageReference(b.image))).toStrictEqual(bases);
    expect(analysis.unresolvedArgs).toStrictEqual(unresolved);
  });
});

describe('analyzeDockerfile: errors', () => {
  test.each<[string, string, Record<string, string>, AnalyzeOptions, string | RegExp]>([
    ['no FROM at all', lines('# just a comment', 'ARG X=1'), {}, {}, 'Dockerfile has no FROM instruction'],
    ['empty file', '', {}, {}, 'Dockerfile has no FROM instruction'],
    ['FROM only inside a heredoc', lines('ARG X', 'RUN <<EOF', 'FROM alpine', 'EOF'), {}, {}, 'Dockerfile line 2: RUN comes before the first FROM; only ARG may'],
    ['empty image after substitution, declared ARG', lines('# base', 'ARG BASE_IMAGE', 'FROM ${BASE_IMAGE}'), {}, {},
      'Dockerfile line 3: FROM ${BASE_IMAGE} is empty after substitution (ARG BASE_IMAGE has no default and no build arg BASE_IMAGE was given)'],
    ['empty image, undeclared ARG given as build arg', lines('FROM $IMAGE'), { IMAGE: 'node:20' }, {},
      'Dockerfile line 1: FROM $IMAGE is empty after substitution (IMAGE is given as a build arg but not declared with ARG before the first FROM)'],
    ['empty image, undeclared ARG', lines('FROM $IMAGE'), {}, {},
      'Dockerfile line 1: FROM $IMAGE is empty after substitution (IMAGE is not declared with ARG before the first FROM)'],
    ['invalid reference names the line', lines('FROM alpine AS a', '', 'FROM Node:20'), {}, {},
      'Dockerfile line 3: invalid image reference "Node:20": repository name must be lowercase ("Node")'],
    ['invalid reference from a build arg', lines('ARG TAG', 'FROM node:${TAG}'), { TAG: 'bad tag!' }, {},
      /^Dockerfile line 2: invalid image reference "node:bad tag!": it contains whitespace$/],
    ['partly unresolved reference names the ARG', lines('ARG NS', 'FROM $NS/app:1'), {}, {},
      /^Dockerfile line 2: invalid image reference "\/app:1": .*\(ARG NS has no default and no build arg NS was given\)$/],
    ['FROM without image', lines('FROM'), {}, {}, 'Dockerfile line 1: FROM needs an image'],
    ['FROM with two words', lines('FROM node:20 build'), {}, {}, /^Dockerfile line 1: FROM takes an image and optionally "AS name"/],
    ['FROM with a trailing comment', lines('FROM node:20 # LTS'), {}, {}, /^Dockerfile line 1: FROM takes an image/],
    ['invalid stage name', lines('FROM node:20 AS 1build'), {}, {}, /^Dockerfile line 1: stage name "1build" is invalid/],
    ['duplicate stage name', lines('FROM node:20 AS build', 'FROM alpine AS Build'), {}, {}, 'Dockerfile line 2: stage name "build" is already used by an earlier stage'],
    ['--platform without value', lines('FROM --platform node:20'), {}, {}, /^Dockerfile line 1: --platform on FROM needs a value/],
    ['unknown target stage', lines('FROM node:20 AS build', 'FROM alpine AS prod'), {}, { targetStage: 'test' },
      'target stage "test" is not in the Dockerfile (its named stages: build, prod)'],
    ['unterminated heredoc', lines('FROM alpine', 'RUN <<EOF', 'echo hi'), {}, {}, 'Dockerfile line 2: heredoc <<EOF is never terminated by a line "EOF"'],
    ['bad escape directive', lines('# escape=x', 'FROM alpine'), {}, {}, 'Dockerfile line 1: escape directive must be \\ or `, got "x"'],
    ['repeated directive', lines('# escape=`', '# escape=\\', 'FROM alpine'), {}, {}, 'Dockerfile line 2: only one escape parser directive can be used'],
    ['${VAR:?message} unset', lines('ARG BASE', 'FROM ${BASE:?required}'), {}, {}, 'Dockerfile line 2: BASE: required'],
    ['${VAR:?} empty', lines('ARG BASE=', 'FROM ${BASE:?}'), {}, {}, 'Dockerfile line 2: BASE: is not allowed to be unset or empty'],
    ['escaped dollar is not substituted', lines('ARG V=node', 'FROM \\$V'), {}, {},
      /^Dockerfile line 2: invalid image reference "\$V": repository path component "\$V" is invalid/],
    ['unclosed brace after modifier', lines('ARG V', 'FROM node:${V:-20'), {}, {}, /^Dockerfile line 2: missing "}"/],
    ['unsupported modifier', lines('ARG V=node:20', 'FROM ${V%%:*}'), {}, {}, /^Dockerfile line 2: unsupported modifier "%"/],
    ['unclosed brace', lines('ARG V', 'FROM node:${V'), {}, {}, /^Dockerfile line 2: missing "}"/],
    ['empty braces', lines('FROM node:${}'), {}, {}, /^Dockerfile line 1: bad substitution/],
    ['single-quoted ARG reference stays literal', lines('ARG TAG=3.19', "FROM alpine:'${TAG}'"), {}, {},
      /^Dockerfile line 2: invalid image reference "alpine:\$\{TAG\}": tag "\$\{TAG\}" is invalid/],
  ])('%s', (_label, text, args, opts, message) => {
    let caught: unknown;
    try {
      analyzeDockerfile(text, args, opts);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DockerfileError);
    if (typeof message === 'string') expect((caught as Error).message).toBe(message);
    else expect((caught as Error).message).toMatch(message);
  });
});

describe('triggeringBases and runtimeBase', () => {
  const multiStage = lines(
    'ARG REGISTRY_NAME',
    'FROM ${REGISTRY_NAME}/baseimages/node:9-alpine AS build',
    `FROM golang:1.22@${DIGEST} AS tools`,
    'FROM node:9-alpine AS runtime-base',
    'FROM runtime-base',
  );
  const analysis = analyzeDockerfile(multiStage, { REGISTRY_NAME: '127.0.0.1:5001' });

  test.each<['Runtime' | 'All', string[]]>([
    ['Runtime', ['docker.io/library/node:9-alpine']],
    ['All', ['127.0.0.1:5001/baseimages/node:9-alpine', 'docker.io/library/node:9-alpine']],
  ])('%s', (type, expected) => {
    expect(triggeringBases(analysis, type).map((b) => formatImageReference(b.image))).toStrictEqual(expected);
  });

  it('lists the pinned base but never triggers on it', () => {
    expect(analysis.bases.map((b) => [formatImageReference(b.image), b.pinned])).toStrictEqual([
      ['127.0.0.1:5001/baseimages/node:9-alpine', false],
      [`docker.io/library/golang:1.22@${DIGEST}`, true],
      ['docker.io/library/node:9-alpine', false],
    ]);
  });

  it('runtimeBase follows the final stage to its image', () => {
    expect(runtimeBase(analysis)).toStrictEqual({
      image: { registry: 'docker.io', repository: 'library/node', tag: '9-alpine' },
      stage: 'runtime',
      pinned: false,
      stageIndex: 2,
      line: 4,
    });
  });

  test.each<['Runtime' | 'All', number]>([
    ['Runtime', 0],
    ['All', 0],
  ])('a pinned runtime base triggers nothing with %s', (type, count) => {
    const pinned = analyzeDockerfile(`FROM node:20@${DIGEST}`, {});
    expect(runtimeBase(pinned)?.pinned).toBe(true);
    expect(triggeringBases(pinned, type)).toHaveLength(count);
  });

  it('a scratch image triggers only on its build-time bases with All', () => {
    const scratch = analyzeDockerfile(lines('FROM golang:1.22 AS build', 'FROM scratch'), {});
    expect(triggeringBases(scratch, 'Runtime')).toStrictEqual([]);
    expect(triggeringBases(scratch, 'All').map((b) => formatImageReference(b.image))).toStrictEqual(['docker.io/library/golang:1.22']);
  });
});
