//! Texts of the admin money pages (risk review, ledger, bank statements,
//! gift cards, invoices): key, then en, de, es, pt, zh.

pub const ENTRIES: &[(&str, [&str; 5])] = &[
    ("admin.risk", ["Risk review", "Risikoprüfung", "Revisión de riesgo", "Análise de risco", "风险审核"]),
    ("admin.method", ["Method", "Methode", "Método", "Método", "方式"]),
    ("admin.risk_score", ["Score", "Punktzahl", "Puntuación", "Pontuação", "分数"]),
    ("admin.risk_decision", ["Decision", "Entscheidung", "Decisión", "Decisão", "决定"]),
    ("admin.risk_reasons", ["Reasons", "Gründe", "Motivos", "Motivos", "原因"]),
    ("admin.risk_review", ["Review", "Prüfung", "Revisión", "Revisão", "审核"]),
    ("admin.risk_approve", ["Approve", "Freigeben", "Aprobar", "Aprovar", "批准"]),
    (
        "admin.risk_reject",
        ["Reject and cancel", "Ablehnen und stornieren", "Rechazar y cancelar", "Recusar e cancelar", "拒绝并取消"],
    ),
    ("admin.risk_block", ["Block buyer", "Käufer sperren", "Bloquear comprador", "Bloquear comprador", "拉黑买家"]),
    (
        "admin.risk_queue_empty",
        [
            "No order waits for a review.",
            "Keine Bestellung wartet auf Prüfung.",
            "Ningún pedido espera revisión.",
            "Nenhum pedido aguarda análise.",
            "没有待审核的订单。",
        ],
    ),
    ("admin.risk_rules", ["Rules", "Regeln", "Reglas", "Regras", "规则"]),
    ("admin.risk_blocks", ["Blocked lists", "Sperrlisten", "Listas de bloqueo", "Listas de bloqueio", "黑名单"]),
    ("admin.remove", ["Remove", "Entfernen", "Quitar", "Remover", "移除"]),
    ("admin.order", ["Order", "Bestellung", "Pedido", "Pedido", "订单"]),
    ("admin.total", ["Total", "Summe", "Total", "Total", "合计"]),
];
