// What a task file builds from, before any run: each build step's Dockerfile read from the
// task's context and analysed as a Dockerfile task's is, so a broken step is refused at
// `task create`, and the bases every step names are known with the step that names them.
import { analyzeDockerfile, type DockerfileAnalysis } from '../dockerfile/analyze';
import { DockerfileError } from '../domain/errors';
import { parseTaskFile, pushTemplates, sampleValues, type BuildStep, type TaskFile } from './task-file';

export interface TaskFileCheck {
  file: TaskFile;
  /** What the task pushes to its registry, as image templates relative to it. */
  images: string[];
  /** Each build step with its Dockerfile's analysis. */
  builds: Array<{ step: BuildStep; analysis: DockerfileAnalysis }>;
}

/**
 * Reads `path` (the task file) and each build step's Dockerfile with `read` (paths relative to
 * the context); throws TaskFileError or DockerfileError naming the line at fault.
 */
export async function checkTaskFile(read: (path: string) => Promise<string>, path: string, registry: string, taskName: string): Promise<TaskFileCheck> {
  const text = await read(path);
  const file = parseTaskFile(text, sampleValues(registry, taskName));
  const builds: TaskFileCheck['builds'] = [];
  for (const step of file.steps) {
    if (step.kind !== 'build') continue;
    const dockerfile = await read(step.dockerfile);
    try {
      builds.push({ step, analysis: analyzeDockerfile(dockerfile, step.buildArgs, { ...(step.target !== undefined && { targetStage: step.target }) }) });
    } catch (err) {
      if (err instanceof DockerfileError) throw new DockerfileError(`step "${step.id}" (task file line ${step.line}), ${step.dockerfile}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  return { file, images: pushTemplates(text, registry, taskName), builds };
}
