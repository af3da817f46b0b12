package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/config"
)

// The Kubernetes example, decoded: only the fields the tests judge.
type (
	k8sMeta struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	}
	k8sProbe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"` // a name or a number
		} `yaml:"httpGet"`
	}
	k8sContainer struct {
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Env     []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom any    `yaml:"valueFrom"`
		} `yaml:"env"`
		EnvFrom []any `yaml:"envFrom"`
		Ports   []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe  *k8sProbe `yaml:"readinessProbe"`
		LivenessProbe   *k8sProbe `yaml:"livenessProbe"`
		SecurityContext struct {
			ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	k8sVolume struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			DefaultMode *int   `yaml:"defaultMode"`
		} `yaml:"secret"`
		EmptyDir any `yaml:"emptyDir"`
	}
	k8sObject struct {
		Kind     string            `yaml:"kind"`
		Metadata k8sMeta           `yaml:"metadata"`
		Data     map[string]string `yaml:"data"` // ConfigMap
		Spec     struct {
			AccessModes []string `yaml:"accessModes"` // PersistentVolumeClaim
			Replicas    *int     `yaml:"replicas"`    // Deployment
			Strategy    struct {
				Type string `yaml:"type"`
			} `yaml:"strategy"`
			Template struct {
				Metadata k8sMeta `yaml:"metadata"`
				Spec     struct {
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
						RunAsUser    int  `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []k8sContainer `yaml:"containers"`
					Volumes    []k8sVolume    `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
			Selector map[string]any `yaml:"selector"` // Service (a Deployment's holds matchLabels)
			Ports    []struct {
				TargetPort any `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
)

// yamlInt formats an optional integer.
func yamlInt(p *int) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(*p)
}

// kubernetesObjects decodes every document of a manifest, by kind.
func kubernetesObjects(t *testing.T, name string) map[string]k8sObject {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var obj k8sObject
		if err := node.Decode(&obj); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, dup := out[obj.Kind]; dup {
			t.Fatalf("%s: two %s objects", name, obj.Kind)
		}
		out[obj.Kind] = obj
	}
	return out
}

// TestKubernetesOneWriter checks deploy/kubernetes/tally.yaml: one pod
// running tally schedule on a ReadWriteOnce volume (one SQLite writer),
// probes on the intake's /healthz, a Service in front of it, and every
// secret a file on a secret volume, never an environment variable.
func TestKubernetesOneWriter(t *testing.T) {
	objs := kubernetesObjects(t, "kubernetes/tally.yaml")
	var kinds []string
	for k := range objs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	if got := strings.Join(kinds, " "); got != "ConfigMap Deployment PersistentVolumeClaim Service" {
		t.Fatalf("kinds %s, want one ConfigMap, Deployment, PersistentVolumeClaim and Service (no CronJob: a second writer)", got)
	}
	pvc, cm, dep, svc := objs["PersistentVolumeClaim"], objs["ConfigMap"], objs["Deployment"], objs["Service"]
	if !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteOnce"}) {
		t.Errorf("volume access modes %v, want ReadWriteOnce only", pvc.Spec.AccessModes)
	}
	if r := dep.Spec.Replicas; r == nil || *r != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("Deployment: replicas %s, strategy %q; want 1 and Recreate (the old pod stops before the new one opens the file)", yamlInt(r), dep.Spec.Strategy.Type)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if sc := pod.SecurityContext; !sc.RunAsNonRoot || sc.RunAsUser != 65532 {
		t.Errorf("pod runs as %d (non-root %v), want the image's user 65532", sc.RunAsUser, sc.RunAsNonRoot)
	}

	// The config: valid, the database on the data volume.
	cfg, err := config.Parse(strings.NewReader(cm.Data["tally.toml"]))
	if err != nil {
		t.Fatalf("ConfigMap tally.toml: %v", err)
	}
	mounts := map[string]string{} // mount path -> volume name
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]k8sVolume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	volumeAt := func(file string) (k8sVolume, bool) {
		v, ok := volumes[mounts[path.Dir(file)]]
		return v, ok
	}
	if v, ok := volumeAt(cfg.Store.Path); !ok || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Metadata.Name {
		t.Errorf("store.path %s is not on the %s volume", cfg.Store.Path, pvc.Metadata.Name)
	}
	if v, ok := volumeAt("/etc/tally/tally.toml"); !ok || v.ConfigMap == nil || v.ConfigMap.Name != cm.Metadata.Name {
		t.Errorf("/etc/tally is not the %s ConfigMap", cm.Metadata.Name)
	}
	if v, ok := volumeAt("/tmp/x"); c.SecurityContext.ReadOnlyRootFilesystem && (!ok || v.EmptyDir == nil) {
		t.Error("read-only root without an emptyDir on /tmp: SQLite has nowhere for its temporary files")
	}

	// Secrets: files on a secret volume that others cannot read.
	secretFiles := []string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil || e.Name == "TALLY_SECRET" {
			t.Errorf("env %s: secrets come as files, not variables", e.Name)
		}
		if e.Name == "TALLY_SECRET_FILE" {
			secretFiles = append(secretFiles, e.Value)
		}
	}
	if len(c.EnvFrom) > 0 {
		t.Error("envFrom: secrets come as files, not variables")
	}
	for _, p := range tally.UploadPlatforms {
		if f := cfg.Uploaders.Credential(p).File; f != "" {
			secretFiles = append(secretFiles, f)
		}
	}
	if len(secretFiles) < 2 {
		t.Errorf("secret files %v: want TALLY_SECRET_FILE and at least one token file", secretFiles)
	}
	for _, f := range secretFiles {
		v, ok := volumeAt(f)
		if !ok || v.Secret == nil {
			t.Errorf("%s is not on a secret volume", f)
			continue
		}
		if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o004 != 0 {
			t.Errorf("secret volume %s: defaultMode lets every user read it", v.Name)
		}
	}

	// Probes and Service reach the intake's port.
	_, listenPort, err := net.SplitHostPort(cfg.Intake.Listen)
	if err != nil {
		t.Fatal(err)
	}
	port := func(ref any) string {
		for _, p := range c.Ports {
			if ref == p.Name || ref == p.ContainerPort {
				return strconv.Itoa(p.ContainerPort)
			}
		}
		return "none"
	}
	for name, p := range map[string]*k8sProbe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet.Path != "/healthz" || port(p.HTTPGet.Port) != listenPort {
			t.Errorf("%s probe %+v, want GET /healthz on intake.listen's port %s", name, p, listenPort)
		}
	}
	if len(svc.Spec.Ports) != 1 || port(svc.Spec.Ports[0].TargetPort) != listenPort {
		t.Errorf("Service ports %+v, want the intake's port %s", svc.Spec.Ports, listenPort)
	}
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service selects %s=%s, which the pod does not carry", k, v)
		}
	}
}
