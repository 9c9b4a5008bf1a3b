//! Texts of the admin access pages (staff, roles, API tokens, audit log):
//! key, then en, de, es, pt, zh.

pub const ENTRIES: &[(&str, [&str; 5])] = &[
    ("access.staff", ["Staff", "Mitarbeitende", "Personal", "Equipe", "员工"]),
    ("access.roles", ["Roles", "Rollen", "Roles", "Funções", "角色"]),
    ("access.tokens", ["API tokens", "API-Token", "Tokens de API", "Tokens de API", "API 令牌"]),
    ("access.audit", ["Audit log", "Audit-Protokoll", "Registro de auditoría", "Registro de auditoria", "审计日志"]),
    ("access.role", ["Role", "Rolle", "Rol", "Função", "角色"]),
    ("access.change_role", ["Change role", "Rolle ändern", "Cambiar rol", "Alterar função", "更改角色"]),
    (
        "access.add_staff",
        ["Add a staff member", "Mitarbeitende hinzufügen", "Añadir personal", "Adicionar membro da equipe", "添加员工"],
    ),
    (
        "access.initial_password",
        ["Initial password", "Erstes Passwort", "Contraseña inicial", "Senha inicial", "初始密码"],
    ),
    ("access.builtin", ["built-in", "vordefiniert", "predefinido", "predefinida", "内置"]),
    ("access.new_role", ["Create a role", "Rolle anlegen", "Crear un rol", "Criar função", "创建角色"]),
    ("access.role_name", ["Name", "Name", "Nombre", "Nome", "名称"]),
    ("access.permissions", ["Permissions", "Berechtigungen", "Permisos", "Permissões", "权限"]),
    ("access.last_used", ["Last used", "Zuletzt benutzt", "Último uso", "Último uso", "最近使用"]),
    ("access.revoke", ["Revoke", "Widerrufen", "Revocar", "Revogar", "撤销"]),
    ("access.revoked", ["revoked", "widerrufen", "revocado", "revogado", "已撤销"]),
    ("access.new_token", ["Create a token", "Token erstellen", "Crear un token", "Criar token", "创建令牌"]),
    (
        "access.expires_days",
        [
            "Expires after (days, empty = never)",
            "Läuft ab nach (Tagen, leer = nie)",
            "Caduca tras (días, vacío = nunca)",
            "Expira após (dias, vazio = nunca)",
            "有效期（天，留空表示永久）",
        ],
    ),
    ("access.token_created", ["Token created.", "Token erstellt.", "Token creado.", "Token criado.", "令牌已创建。"]),
    (
        "access.secret_once",
        [
            "Copy this secret now: it is not shown again",
            "Kopieren Sie dieses Geheimnis jetzt: Es wird nicht wieder angezeigt",
            "Copie este secreto ahora: no se volverá a mostrar",
            "Copie este segredo agora: ele não será mostrado novamente",
            "请立即复制此密钥：它不会再次显示",
        ],
    ),
    ("access.action", ["Action", "Aktion", "Acción", "Ação", "操作"]),
    ("access.actor", ["Who", "Wer", "Quién", "Quem", "操作者"]),
    ("access.target", ["Target", "Ziel", "Objeto", "Alvo", "对象"]),
    ("access.when", ["When", "Wann", "Cuándo", "Quando", "时间"]),
    ("access.details", ["Details", "Details", "Detalles", "Detalhes", "详情"]),
    ("access.filter", ["Filter", "Filtern", "Filtrar", "Filtrar", "筛选"]),
    ("access.older", ["Older entries", "Ältere Einträge", "Entradas anteriores", "Entradas anteriores", "更早的记录"]),
    ("access.security", ["Security", "Sicherheit", "Seguridad", "Segurança", "安全"]),
    (
        "access.second_factor",
        [
            "Second factor (authenticator app)",
            "Zweiter Faktor (Authenticator-App)",
            "Segundo factor (app de autenticación)",
            "Segundo fator (app autenticador)",
            "第二因素（身份验证器应用）",
        ],
    ),
    (
        "access.mfa_on",
        [
            "Your sign-in asks for a code from your authenticator app.",
            "Ihre Anmeldung verlangt einen Code aus Ihrer Authenticator-App.",
            "Su inicio de sesión pide un código de su app de autenticación.",
            "Seu login pede um código do seu app autenticador.",
            "登录时需要输入身份验证器应用中的验证码。",
        ],
    ),
    (
        "access.mfa_off",
        [
            "Not set up. A second factor protects your account if your password leaks.",
            "Nicht eingerichtet. Ein zweiter Faktor schützt Ihr Konto, falls Ihr Passwort bekannt wird.",
            "No configurado. Un segundo factor protege su cuenta si su contraseña se filtra.",
            "Não configurado. Um segundo fator protege sua conta se a senha vazar.",
            "尚未设置。若密码泄露，第二因素可保护您的账户。",
        ],
    ),
    (
        "access.mfa_setup",
        [
            "Set up a second factor",
            "Zweiten Faktor einrichten",
            "Configurar segundo factor",
            "Configurar segundo fator",
            "设置第二因素",
        ],
    ),
    (
        "access.mfa_scan",
        [
            "Add this key to your authenticator app, then enter the code it shows.",
            "Fügen Sie diesen Schlüssel Ihrer Authenticator-App hinzu und geben Sie den angezeigten Code ein.",
            "Añada esta clave a su app de autenticación e introduzca el código que muestra.",
            "Adicione esta chave ao seu app autenticador e digite o código exibido.",
            "将此密钥添加到身份验证器应用，然后输入显示的验证码。",
        ],
    ),
    (
        "access.mfa_confirm",
        [
            "Confirm and turn on",
            "Bestätigen und einschalten",
            "Confirmar y activar",
            "Confirmar e ativar",
            "确认并启用",
        ],
    ),
    ("access.sessions", ["Sessions", "Sitzungen", "Sesiones", "Sessões", "会话"]),
    (
        "access.logout_everywhere",
        [
            "Sign out on every device",
            "Auf allen Geräten abmelden",
            "Cerrar sesión en todos los dispositivos",
            "Sair em todos os dispositivos",
            "在所有设备上退出",
        ],
    ),
    (
        "access.store_policy",
        ["Store policy", "Richtlinie des Shops", "Política de la tienda", "Política da loja", "店铺策略"],
    ),
    (
        "access.require_owner_mfa",
        [
            "Owners must use a second factor",
            "Inhaber müssen einen zweiten Faktor nutzen",
            "Los propietarios deben usar un segundo factor",
            "Proprietários devem usar um segundo fator",
            "店主必须使用第二因素",
        ],
    ),
];
