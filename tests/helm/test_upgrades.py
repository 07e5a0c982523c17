"""Upgrading the app leaves PostgreSQL and Redis alone; releases never collide with each other."""

import shutil

import yaml

from tests.helm.chart import CHART_DIR, find, load_values, one, pod_spec, render

STATEFUL = [("StatefulSet", "jiwoo-postgresql"), ("Deployment", "jiwoo-redis")]


def template(objects, kind: str, name: str) -> str:
    return yaml.safe_dump(one(objects, kind, name)["spec"]["template"], sort_keys=True)


def test_a_new_chart_version_app_version_and_image_restart_only_the_app(tmp_path):
    chart = tmp_path / "jiwoo"
    shutil.copytree(CHART_DIR, chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta |= {"version": "9.8.7", "appVersion": "9.8.7"}
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    values = load_values("default-values.yaml")

    before = render(values)
    after = render(values | {"image": {"tag": "9.8.7-hotfix"}}, chart_dir=chart, is_upgrade=True)

    for kind, name in STATEFUL:
        assert template(before, kind, name) == template(after, kind, name), f"{kind}/{name} would restart"
    assert template(before, "Deployment", "jiwoo") != template(after, "Deployment", "jiwoo")


def test_their_pod_labels_still_match_their_selectors_and_services():
    objects = render(load_values("default-values.yaml"))
    for kind, name in STATEFUL:
        workload = one(objects, kind, name)
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert one(objects, "Service", name)["spec"]["selector"].items() <= labels.items()
        assert not {"helm.sh/chart", "app.kubernetes.io/version"} & set(labels)


def test_one_release_name_in_two_namespaces_shares_no_cluster_scoped_name():
    values = load_values("default-values.yaml")
    names = {}
    for namespace in ("team-a", "team-b"):
        objects = [o for o in render(values, namespace=namespace)]
        role = one(objects, "ClusterRole", find(objects, "ClusterRole")[0]["metadata"]["name"])
        binding = find(objects, "ClusterRoleBinding")[0]
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "jiwoo-promtail", "namespace": namespace}]
        positions = {v["name"]: v for v in pod_spec(one(objects, "DaemonSet", "jiwoo-promtail"))["volumes"]}[
            "positions"
        ]
        names[namespace] = (role["metadata"]["name"], binding["metadata"]["name"], positions["hostPath"]["path"])

    assert set(names["team-a"]).isdisjoint(names["team-b"])


def test_long_cluster_scoped_names_stay_valid_and_distinct():
    values = load_values("default-values.yaml") | {"fullnameOverride": "x" * 60}
    roles = [
        find(render(values, namespace=namespace), "ClusterRole")[0]["metadata"]["name"]
        for namespace in ("a-very-long-namespace-name-one", "a-very-long-namespace-name-two")
    ]

    assert all(len(name) <= 63 for name in roles)
    assert roles[0] != roles[1]


def secret_checksum(objects) -> str:
    return one(objects, "Deployment", "jiwoo")["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]


def chart_whose_lookup_finds(tmp_path, data: dict):
    """The chart as an upgrade renders it in a cluster: lookup finds the Secrets holding `data`."""
    chart = tmp_path / "jiwoo"
    shutil.copytree(CHART_DIR, chart)
    helpers = chart / "templates" / "_helpers.tpl"
    call = 'lookup "v1" "Secret" .root.Release.Namespace .secret'
    assert call in helpers.read_text()
    found = " ".join(f'"{key}" "{value}"' for key, value in data.items())
    helpers.write_text(helpers.read_text().replace(call, f'dict "data" (dict {found})'))
    return chart


PASSWORD_VALUES = {"postgresql": {"auth": {"password": "hunter2"}}, "redis": {"auth": {"password": "k3y/+=="}}}


def test_the_secret_checksum_tells_nothing_a_guess_could_be_checked_against():
    """Two installs of the same values (two clusters) carry different checksums: the hash depends on
    a salt only the chart's Secret holds, not on the passwords alone."""
    first, second = render(PASSWORD_VALUES), render(PASSWORD_VALUES)

    assert (
        one(first, "Secret", "jiwoo")["data"]["checksum-salt"]
        != one(second, "Secret", "jiwoo")["data"]["checksum-salt"]
    )
    assert secret_checksum(first) != secret_checksum(second)


def test_an_upgrade_with_the_same_passwords_keeps_the_pods_and_a_new_one_rolls_them(tmp_path):
    installed = render(PASSWORD_VALUES)
    salt = one(installed, "Secret", "jiwoo")["data"]["checksum-salt"]
    chart = chart_whose_lookup_finds(tmp_path, {"checksum-salt": salt})

    same = render(PASSWORD_VALUES, chart_dir=chart, is_upgrade=True)
    changed = render(PASSWORD_VALUES | {"redis": {"auth": {"password": "new"}}}, chart_dir=chart, is_upgrade=True)

    assert one(same, "Secret", "jiwoo")["data"]["checksum-salt"] == salt
    assert secret_checksum(same) == secret_checksum(installed)
    assert secret_checksum(changed) != secret_checksum(installed)


def test_under_gitops_the_checksum_holds_no_password_and_stays_the_same():
    values = {"gitops": True, "secretKey": {"existingSecret": "jiwoo-credentials"}} | PASSWORD_VALUES
    other = values | {"postgresql": {"auth": {"password": "another"}}}

    assert secret_checksum(render(values)) == secret_checksum(render(values)) == secret_checksum(render(other))
    assert not find(render(values), "Secret", "jiwoo")  # no salt to keep: nothing of the chart's own
    names = values | {"postgresql": {"auth": {"password": "hunter2", "existingSecretKey": "pw"}}}
    assert secret_checksum(render(names)) != secret_checksum(render(values))
