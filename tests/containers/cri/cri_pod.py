#!/usr/bin/python3
"""Kubelet-style CRI client and local image builder for the container tests.

  cri_pod.py images OUTDIR ROOTFS            OCI image-layout tars pause.tar and app.tar
  cri_pod.py run SOCK PROTO GEN SPEC.json    RunPodSandbox + CreateContainer + StartContainer;
                                             prints {"pod_id": ..., "container_id": ...}
  cri_pod.py stop SOCK PROTO GEN POD_ID      StopPodSandbox + RemovePodSandbox

Images are built from a busybox root file system (no registry is needed): one uncompressed
layer, its config and manifest, and an index whose io.containerd.image.name annotation names
the image, so `ctr images import` registers it under that name. The CRI stubs are generated
from the vendored api.proto into GEN on first use (Debian's python3-grpc-tools).
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def _blob(tar, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))
    return "sha256:" + digest, len(data)


def _layer(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in sorted(os.walk(rootfs)):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                info = t.gettarinfo(path, os.path.relpath(path, rootfs))
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.isreg():
                    with open(path, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def build_image(out, name, rootfs, entrypoint, cmd):
    layer = _layer(rootfs)
    with tarfile.open(out, "w") as tar:
        layer_digest, layer_size = _blob(tar, layer)
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Entrypoint": entrypoint, "Cmd": cmd, "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }, sort_keys=True).encode()
        config_digest, config_size = _blob(tar, config)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest, "size": layer_size}],
        }, sort_keys=True).encode()
        manifest_digest, manifest_size = _blob(tar, manifest)
        for fname, data in (
            ("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
            ("index.json", json.dumps({
                "schemaVersion": 2,
                "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": manifest_digest, "size": manifest_size,
                               "annotations": {"io.containerd.image.name": name,
                                               "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}}],
            }).encode()),
        ):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def stubs(proto, gen):
    if not os.path.exists(os.path.join(gen, "api_pb2_grpc.py")):
        from grpc_tools import protoc
        os.makedirs(gen, exist_ok=True)
        rc = protoc.main(["protoc", "-I", os.path.dirname(proto), "--python_out=" + gen,
                          "--grpc_python_out=" + gen, proto])
        if rc != 0:
            sys.exit("protoc failed on " + proto)
    sys.path.insert(0, gen)
    import grpc
    import api_pb2
    import api_pb2_grpc
    return grpc, api_pb2, api_pb2_grpc


def client(sock, proto, gen):
    grpc, pb, pbg = stubs(proto, gen)
    channel = grpc.insecure_channel("unix://" + sock)
    return pb, pbg.RuntimeServiceStub(channel)


def run(sock, proto, gen, spec_path):
    pb, rt = client(sock, proto, gen)
    with open(spec_path) as f:
        spec = json.load(f)
    uid, name, ns = spec["uid"], spec["name"], spec["namespace"]
    # what the kubelet sets: its io.kubernetes.* labels, host network (so no CNI), an empty
    # hostname with it, the pod's cgroup parent (cgroupfs driver naming)
    pod_labels = dict(spec["labels"])
    pod_labels.update({"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": ns,
                       "io.kubernetes.pod.uid": uid})
    ns_opts = pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD)
    sandbox = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=ns, attempt=0),
        hostname="",
        log_directory=spec["log_directory"],
        labels=pod_labels,
        annotations=dict(spec.get("annotations", {}), **{"kubernetes.io/config.source": "api"}),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent="/kubepods/besteffort/pod" + uid,
            security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns_opts)),
    )
    pod_id = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox), timeout=60).pod_sandbox_id
    c = spec["container"]
    labels = {"io.kubernetes.container.name": c["name"], "io.kubernetes.pod.name": name,
              "io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid}
    config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=c["name"], attempt=0),
        image=pb.ImageSpec(image=c["image"]),
        command=c["command"],
        labels=labels,
        annotations={"io.kubernetes.container.restartCount": "0"},
        log_path=c["name"] + "/0.log",
        linux=pb.LinuxContainerConfig(
            security_context=pb.LinuxContainerSecurityContext(namespace_options=ns_opts)),
    )
    cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=config,
                                                       sandbox_config=sandbox), timeout=60).container_id
    rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=60)
    print(json.dumps({"pod_id": pod_id, "container_id": cid}))


def stop(sock, proto, gen, pod_id):
    pb, rt = client(sock, proto, gen)
    rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)
    rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)


def main(argv):
    if len(argv) == 4 and argv[1] == "images":
        out, rootfs = argv[2], argv[3]
        build_image(os.path.join(out, "pause.tar"), "localhost/pause:vigil", rootfs,
                    ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"], [])
        build_image(os.path.join(out, "app.tar"), "localhost/app:vigil", rootfs, [], ["/bin/sh"])
    elif len(argv) == 6 and argv[1] == "run":
        run(*argv[2:6])
    elif len(argv) == 6 and argv[1] == "stop":
        stop(*argv[2:6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
