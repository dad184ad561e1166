"""The call flow as a graph: numbers -> workgroups, IVR digits -> targets, on-hours and
off-hours routes (labelled with the schedule), members. Built from workgroups in the model's
canonical form (references hold addresses), so the declared config and a plan both give one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from telegent_iac.model.workgroups import Member, Workgroup

NUMBER_FIELDS = ("TelegentPhone", "TollFreeNumber")
# Node kinds, in the order a diagram lists them.
NUMBER, WORKGROUP, PERSON, EXTERNAL = "number", "workgroup", "person", "external"
KIND_ORDER = {NUMBER: 0, WORKGROUP: 1, PERSON: 2, EXTERNAL: 3}
# Edge kinds.
DIALS, DIGIT, RINGS, ON_HOURS, OFF_HOURS = "dials", "digit", "rings", "on-hours", "off-hours"


@dataclass(frozen=True)
class Node:
    id: str  # "number:+1...", "workgroup:<address>", "user:<id>", "phone:+1...", "id:<type>:<id>"
    kind: str
    label: str
    address: str = ""  # for a workgroup node


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass
class Flow:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def around(self, addresses: Iterable[str]) -> Flow:
        """The part of the flow that touches `addresses`: those workgroups, the workgroups
        next to them (either way), and the numbers and people attached to the former."""
        centre = {workgroup_id(a) for a in addresses} & set(self.nodes)
        keep = set(centre)
        for edge in self.edges:
            if edge.source in centre:
                keep.add(edge.target)
            if edge.target in centre:
                keep.add(edge.source)
        out = Flow()
        for node_id in sorted(keep, key=lambda n: (KIND_ORDER[self.nodes[n].kind], n)):
            out.add(self.nodes[node_id])
        out.edges = [e for e in self.edges if e.source in keep and e.target in keep]
        return out

    def sorted_nodes(self) -> list[Node]:
        return sorted(self.nodes.values(), key=lambda n: (KIND_ORDER[n.kind], n.id))


def workgroup_id(address: str) -> str:
    return f"workgroup:{address}"


def person(fields: Mapping[str, object]) -> Node | None:
    """Who a User member rings: its user ID, else its phone number."""
    if fields.get("ReferenceUserId"):
        user = str(fields["ReferenceUserId"])
        return Node(f"user:{user}", PERSON, user)
    if fields.get("PhoneNumber"):
        phone = str(fields["PhoneNumber"])
        return Node(f"phone:{phone}", PERSON, phone)
    return None


def route_target(kind: object, target: object, declared: Mapping[str, Workgroup]) -> Node:
    """The node an on-hours or off-hours route (type, id) leads to."""
    text = str(target)
    if str(kind).lower() == "workgroup" and text in declared:
        wg = declared[text]
        return Node(workgroup_id(text), WORKGROUP, _workgroup_label(wg), text)
    if str(kind).lower() == "user":
        return Node(f"user:{text}", PERSON, text)
    return Node(f"id:{kind}:{text}", EXTERNAL, f"{kind} {text}")


def member_target(member: Member, declared: Mapping[str, Workgroup]) -> Node | None:
    fields = member.fields
    if str(fields.get("Type", "")).lower() == "workgroup" and fields.get("ReferenceWorkgroupId"):
        return route_target("Workgroup", fields["ReferenceWorkgroupId"], declared)
    return person(fields)


def _workgroup_label(wg: Workgroup) -> str:
    name = wg.fields.get("Name", wg.address)
    return f"{wg.address}: {name} ({wg.fields.get('Type', '?')})"


def schedule_label(wg: Workgroup) -> str:
    schedule = wg.fields.get("ScheduleId")
    return str(schedule) if schedule else "no schedule"


def build(workgroups: Mapping[str, Workgroup]) -> Flow:
    """The whole call flow of `workgroups` (address -> workgroup)."""
    flow = Flow()
    for wg in workgroups.values():
        flow.add(Node(workgroup_id(wg.address), WORKGROUP, _workgroup_label(wg), wg.address))
    for wg in workgroups.values():
        here = workgroup_id(wg.address)
        for name in NUMBER_FIELDS:
            if wg.fields.get(name):
                number = str(wg.fields[name])
                flow.edges.append(Edge(flow.add(Node(f"number:{number}", NUMBER, number)), here, DIALS))
        for kind_field, id_field, edge_kind in (
            ("OnHoursType", "OnHoursId", ON_HOURS),
            ("OffHoursType", "OffHoursId", OFF_HOURS),
        ):
            if wg.fields.get(id_field):
                target = flow.add(route_target(wg.fields.get(kind_field, "?"), wg.fields[id_field], workgroups))
                words = "on hours" if edge_kind == ON_HOURS else "off hours"
                flow.edges.append(Edge(here, target, edge_kind, f"{words} ({schedule_label(wg)})"))
        ivr = wg.fields.get("Type") == "IVR"
        for member in ordered_members(wg):
            node = member_target(member, workgroups)
            if node is None:
                continue
            digit = member.fields.get("DigitOrder")
            if ivr:
                flow.edges.append(Edge(here, flow.add(node), DIGIT, f"press {digit}"))
            else:
                label = f"turn {digit}" if wg.fields.get("Type") == "round-robin" and digit is not None else ""
                flow.edges.append(Edge(here, flow.add(node), RINGS, label))
    return flow


def ordered_members(wg: Workgroup) -> list[Member]:
    """Members in ring order: by DigitOrder where given (assumed), then as declared."""
    indexed = list(enumerate(wg.members))
    indexed.sort(key=lambda pair: (pair[1].fields.get("DigitOrder") is None, pair[1].fields.get("DigitOrder", 0),
                                   pair[0]))
    return [member for _, member in indexed]
