// Which CASCADE_API addresses get signed, and for which region.
import { resolveApiAuth, type ApiAuth } from '../../../lib/cli/api-auth';
import { UsageError } from '../../../lib/cli/errors';

const signed = (region: string): ApiAuth => ({ kind: 'aws-iam', region });
const plain: ApiAuth = { kind: 'none' };

describe('resolveApiAuth', () => {
  it.each<[url: string, env: NodeJS.ProcessEnv, expected: ApiAuth]>([
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', {}, signed('eu-west-1')],
    ['https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/prod', {}, signed('us-gov-west-1')],
    ['https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn', {}, signed('cn-northwest-1')],
    ['https://A1B2C3D4E5.Execute-Api.EU-WEST-1.AmazonAWS.com', {}, signed('eu-west-1')],
    ['https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.ap-south-1.amazonaws.com', {}, signed('ap-south-1')],
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', { AWS_REGION: 'us-east-1' }, signed('eu-west-1')],
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', { CASCADE_API_AUTH: 'auto' }, signed('eu-west-1')],
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', { CASCADE_API_AUTH: ' none ' }, plain],
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', { CASCADE_API_AUTH: '' }, signed('eu-west-1')],
    ['https://cascade.example.com', { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: 'eu-central-1' }, signed('eu-central-1')],
    ['https://cascade.example.com', { CASCADE_API_AUTH: 'AWS-IAM', AWS_DEFAULT_REGION: 'sa-east-1' }, signed('sa-east-1')],
    ['https://cascade.example.com', { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'sa-east-1' }, signed('eu-central-1')],
    ['https://cascade.example.com', { AWS_REGION: 'eu-central-1' }, plain],
    ['http://127.0.0.1:3000', {}, plain],
    ['http://localhost:3000', { AWS_REGION: 'eu-west-1' }, plain],
    // Look-alikes are not API Gateway.
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com.example.com', {}, plain],
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.co', {}, plain],
    ['https://execute-api.eu-west-1.amazonaws.com', {}, plain],
  ])('%s with %j', (url, env, expected) => {
    expect(resolveApiAuth(new URL(url), env)).toEqual(expected);
  });

  it.each<[url: string, env: NodeJS.ProcessEnv, message: string]>([
    ['http://127.0.0.1:3000', { CASCADE_API_AUTH: 'iam' }, 'CASCADE_API_AUTH takes one of auto, aws-iam, none; fix or unset it'],
    ['https://cascade.example.com', { CASCADE_API_AUTH: 'aws-iam' }, 'CASCADE_API_AUTH=aws-iam needs the region of the API at cascade.example.com to sign for: set AWS_REGION, e.g. AWS_REGION=us-east-1'],
    ['https://cascade.example.com', { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: '  ' }, 'CASCADE_API_AUTH=aws-iam needs the region of the API at cascade.example.com to sign for: set AWS_REGION, e.g. AWS_REGION=us-east-1'],
    ['https://cascade.example.com', { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: 'Ireland' }, '"Ireland" is not an AWS region: set AWS_REGION to the API\'s region, e.g. AWS_REGION=us-east-1'],
  ])('%s with %j is a usage error', (url, env, message) => {
    expect(() => resolveApiAuth(new URL(url), env)).toThrow(new UsageError(message));
  });
});
