"""The JSON Schema (draft 2020-12) of the scenario format, for editors.

Built from the loader's own tables (hvtui.scenario.rules), so a key or an
op added there shows up here. The schema says what one field may hold; the
rules that relate fields (a vCPU id below `vcpus`, unique op ids, a schedule
whose every step can be taken) only the loader checks.
"""

from __future__ import annotations

from hvtui.model.properties import PROPERTIES
from hvtui.model.state import MAX_VCPUS, MODES
from hvtui.model.variants import VARIANTS
from hvtui.scenario.rules import (
    ACTOR_PATTERN,
    BANKS,
    FINAL_FIELDS,
    INITIAL_MODES,
    MASK_MAX,
    OP_KEYS,
    PROGRESS_VERDICTS,
    REQUIRED,
    VCPU_OPS,
)
from hvtui.scenario.value import DEFAULT

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Numbers as a regex: JSON object keys are strings, so `mode: {0: guest}` and
# `sparse: {1: 0x6}` reach the schema with keys "0" and "1".
_VCPU_NUMBER = r"(0|[1-9][0-9]{0,2}|[1-3][0-9]{3}|40[0-8][0-9]|409[0-5])"
_BANK_NUMBER = r"(0|[1-9]|[1-5][0-9]|6[0-3])"
_JSON_TYPES = {bool: "boolean", int: "integer", str: "string"}
# a name or an id: something visible, no control characters (the loader also
# refuses other unprintable Unicode, which a portable regex cannot name)
# ([\s\S] and no $: Python's $ also matches before a final newline, ECMA's does not)
_ONE_LINE = r"^(?![\s\S]*[\u0000-\u001f\u007f-\u009f])[\s\S]*\S"


def _vcpu_id(description: str) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": MAX_VCPUS - 1, "description": description}


def _mask(description: str) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": MASK_MAX, "description": description}


def _ops_list(op_ref: str) -> dict:
    return {
        "type": ["array", "null"],
        "items": {"$ref": op_ref},
        "description": "the actor's ops, run in order",
    }


def _op(kind: str, properties: dict, description: str) -> dict:
    props = {
        "id": {
            "type": "string",
            "pattern": _ONE_LINE,
            "description": "unique in the scenario; default <actor>#<index>",
        },
        "op": {"const": kind},
        **properties,
    }
    return {
        "type": "object",
        "description": description,
        "properties": props,
        "required": [k for k in OP_KEYS[kind] if k not in ("id", "targets")],
        "additionalProperties": False,
    }


def _final_field(name: str, typ: type) -> dict:
    schema: dict = {"type": _JSON_TYPES[typ]}
    if name == "mode":
        schema["enum"] = list(MODES)
    elif name == "waiting_on":
        schema.update(minimum=-1, maximum=MAX_VCPUS - 1)
    elif name == "flushes":
        schema["minimum"] = 0
    elif name == "mutex":
        schema["pattern"] = r"^(|KVM_RUN|vmm|vmm:[A-Za-z0-9_.-]+)$"
    return schema


def scenario_schema() -> dict:
    vcpu_actor = r"^vcpu" + _VCPU_NUMBER + "$"
    vmm_actor = r"^(vmm|vmm:[A-Za-z0-9_.-]+)$"
    actor_name = {"type": "string", "pattern": ACTOR_PATTERN}
    property_ids = {"type": "array", "items": {"enum": list(PROPERTIES)}}
    targets = {
        "description": "the vCPUs to flush, visited in ascending order",
        "oneOf": [
            {"const": "all"},
            {"type": "array", "items": _vcpu_id("a vCPU id")},
            {
                "type": "object",
                "properties": {
                    "mask": _mask(
                        "a 64-bit processor mask; 0 is every vCPU, as in kvm_hv_flush_tlb()"
                    )
                },
                "required": ["mask"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["sparse"],
                "additionalProperties": False,
                "properties": {
                    "sparse": {
                        "type": "object",
                        "description": "a sparse VP set: bank b, bit i = vCPU 64*b+i",
                        "propertyNames": {"pattern": f"^{_BANK_NUMBER}$"},
                        "additionalProperties": _mask(
                            f"the bank's 64-bit mask (banks 0..{BANKS - 1})"
                        ),
                    }
                },
            },
        ],
    }
    defs = {
        "flush": _op(
            "flush", {"targets": targets}, "a guest's HvCallFlushVirtualAddressSpace hypercall"
        ),
        "set_inhibit": _op(
            "set_inhibit",
            {
                "vcpu": _vcpu_id("the vCPU whose flag is set"),
                "value": {"type": "boolean", "description": "true inhibits, false clears"},
            },
            "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT from a VMM thread",
        ),
        "kernel_work": _op(
            "kernel_work",
            {},
            "other work inside KVM_RUN that holds kvm->srcu (an MMIO or page-fault exit)",
        ),
        "run": _op("run", {"vcpu": _vcpu_id("the vCPU to run")}, "KVM_RUN from a VMM thread"),
        "exit": _op(
            "exit", {"vcpu": _vcpu_id("the vCPU to kick")}, "the VMM kicks a vCPU out of KVM_RUN"
        ),
        "hyperv_init": _op(
            "hyperv_init",
            {"vcpu": _vcpu_id("the vCPU whose Hyper-V context kvm_hv_vcpu_init() creates")},
            "KVM_SET_CPUID2 with the Hyper-V leaves from a VMM thread",
        ),
    }
    vmm_ops = [k for k in OP_KEYS if k not in VCPU_OPS]
    defs["vcpu_op"] = {"oneOf": [{"$ref": f"#/$defs/{k}"} for k in VCPU_OPS]}
    defs["vmm_op"] = {"oneOf": [{"$ref": f"#/$defs/{k}"} for k in vmm_ops]}
    properties = {
        "name": {"type": "string", "pattern": _ONE_LINE, "description": "required, short"},
        "description": {
            "type": ["string", "null"],
            "description": "shown in the workbench and in exports",
        },
        "vcpus": {"type": "integer", "minimum": 1, "maximum": MAX_VCPUS},
        "variant": {"enum": list(VARIANTS), "description": "see `hvtui variants`"},
        "initial": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "inhibit": {
                    "type": ["array", "null"],
                    "uniqueItems": True,
                    "items": _vcpu_id("inhibited at start"),
                },
                "mode": {
                    "type": ["object", "null"],
                    "propertyNames": {"pattern": f"^{_VCPU_NUMBER}$"},
                    "additionalProperties": {"enum": list(INITIAL_MODES)},
                },
                "no_hyperv": {
                    "type": ["array", "null"],
                    "uniqueItems": True,
                    "items": _vcpu_id("created without a Hyper-V context (starts in user mode)"),
                },
            },
        },
        "actors": {
            "type": "object",
            "description": "each actor runs its ops in order",
            "patternProperties": {
                vcpu_actor: _ops_list("#/$defs/vcpu_op"),
                vmm_actor: _ops_list("#/$defs/vmm_op"),
            },
            "additionalProperties": False,
        },
        "schedule": {
            "type": ["array", "null"],
            "items": actor_name,
            "description": "who takes each next atomic step",
        },
        "expect": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "violations": {
                    "oneOf": [
                        property_ids,
                        {
                            "type": "object",
                            "description": "per variant; `default` covers the variants not "
                            "named (without it they expect nothing)",
                            "propertyNames": {"enum": [*VARIANTS, DEFAULT]},
                            "additionalProperties": property_ids,
                        },
                    ]
                },
                "final": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "patternProperties": {
                        vcpu_actor: {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {k: _final_field(k, t) for k, t in FINAL_FIELDS.items()},
                        }
                    },
                },
                "progress": {"enum": list(PROGRESS_VERDICTS)},
                "stuck": {"type": "array", "items": actor_name},
            },
        },
    }
    return {
        "$schema": DIALECT,
        "$id": "urn:hvtui:scenario",
        "title": "hvtui scenario",
        "description": "A scenario for hvtui, the workbench for KVM's Hyper-V "
        "TLB-flush-inhibit protocol. Cross-field rules (ids below `vcpus`, unique op ids, "
        "no flush by and no guest mode for a `no_hyperv` vCPU, "
        "a schedule every step of which can be taken) are checked by the loader.",
        "type": "object",
        "required": list(REQUIRED),
        "additionalProperties": False,
        "properties": properties,
        "$defs": defs,
    }
