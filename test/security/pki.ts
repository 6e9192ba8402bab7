// A throwaway PKI made with openssl: a CA, a server certificate it signs, and an unrelated second CA.

import { join } from "node:path";
import { tempDir } from "../helpers/proc.ts";

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A CA that signed nothing here: verifying the server against it must fail. */
  otherCaCert: string;
}

const openssl = (dir: string, args: string[]): void => {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${run.stderr.toString()}`);
};

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

const makeCa = (dir: string, name: string): void =>
  openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "3650",
    "-subj",
    `/CN=logproc test ${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);

/** A CA and a server certificate for `subjectAltName` (e.g. "IP:127.0.0.1"). */
export const makePki = async (subjectAltName: string): Promise<Pki> => {
  const dir = tempDir("logproc-pki-");
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  openssl(dir, [
    "req",
    ...EC,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=logproc test server",
  ]);
  await Bun.write(
    join(dir, "server.ext"),
    `subjectAltName=${subjectAltName}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "3650",
    "-extfile",
    "server.ext",
  ]);
  return {
    dir,
    caCert: join(dir, "ca.pem"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    otherCaCert: join(dir, "other-ca.pem"),
  };
};
