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
    ("access.display_name", ["Display name", "Anzeigename", "Nombre visible", "Nome de exibição", "显示名称"]),
    ("access.created", ["Created", "Erstellt", "Creado", "Criado", "创建时间"]),
    ("access.expires", ["Expires", "Läuft ab", "Caduca", "Expira", "过期时间"]),
    ("access.revoked_at", ["Revoked", "Widerrufen am", "Revocado", "Revogado", "撤销时间"]),
    ("access.never", ["never", "nie", "nunca", "nunca", "永不"]),
    ("access.expired", ["expired", "abgelaufen", "caducado", "expirado", "已过期"]),
    (
        "access.no_tokens",
        [
            "No API tokens yet.",
            "Noch keine API-Token.",
            "Aún no hay tokens de API.",
            "Ainda não há tokens de API.",
            "尚无 API 令牌。",
        ],
    ),
    ("access.client_ip", ["IP address", "IP-Adresse", "Dirección IP", "Endereço IP", "IP 地址"]),
    (
        "access.newest",
        ["Newest entries", "Neueste Einträge", "Entradas más recientes", "Entradas mais recentes", "最新记录"],
    ),
    (
        "access.done",
        ["Changes saved.", "Änderungen gespeichert.", "Cambios guardados.", "Alterações salvas.", "更改已保存。"],
    ),
    (
        "access.err.required",
        [
            "This field is required.",
            "Dieses Feld ist erforderlich.",
            "Este campo es obligatorio.",
            "Este campo é obrigatório.",
            "此项为必填。",
        ],
    ),
    (
        "access.err.too_long",
        ["This is too long.", "Das ist zu lang.", "Es demasiado largo.", "É longo demais.", "内容过长。"],
    ),
    (
        "access.err.invalid_characters",
        [
            "This contains characters that are not allowed.",
            "Das enthält unzulässige Zeichen.",
            "Contiene caracteres no permitidos.",
            "Contém caracteres não permitidos.",
            "包含不允许的字符。",
        ],
    ),
    (
        "access.err.email",
        [
            "Enter a valid e-mail address.",
            "Geben Sie eine gültige E-Mail-Adresse ein.",
            "Introduzca un correo electrónico válido.",
            "Informe um e-mail válido.",
            "请输入有效的电子邮箱地址。",
        ],
    ),
    (
        "access.err.unknown_role",
        [
            "There is no such role in this store.",
            "Diese Rolle gibt es in diesem Shop nicht.",
            "Este rol no existe en esta tienda.",
            "Essa função não existe nesta loja.",
            "本店铺没有此角色。",
        ],
    ),
    (
        "access.err.reserved",
        [
            "This name belongs to a built-in role.",
            "Dieser Name gehört zu einer vordefinierten Rolle.",
            "Este nombre pertenece a un rol predefinido.",
            "Este nome pertence a uma função predefinida.",
            "此名称属于内置角色。",
        ],
    ),
    (
        "access.err.no_permissions",
        [
            "Choose at least one permission.",
            "Wählen Sie mindestens eine Berechtigung.",
            "Elija al menos un permiso.",
            "Escolha pelo menos uma permissão.",
            "请至少选择一项权限。",
        ],
    ),
    (
        "access.err.unknown_permission",
        [
            "Unknown permission.",
            "Unbekannte Berechtigung.",
            "Permiso desconocido.",
            "Permissão desconhecida.",
            "未知权限。",
        ],
    ),
    (
        "access.err.in_the_past",
        [
            "The expiry must be in the future.",
            "Das Ablaufdatum muss in der Zukunft liegen.",
            "La caducidad debe estar en el futuro.",
            "A expiração deve estar no futuro.",
            "过期时间必须在将来。",
        ],
    ),
    (
        "access.err.days",
        [
            "Enter a whole number of days from 1 to 3650, or leave it empty.",
            "Geben Sie eine ganze Zahl von Tagen zwischen 1 und 3650 ein oder lassen Sie das Feld leer.",
            "Introduzca un número entero de días entre 1 y 3650, o déjelo vacío.",
            "Informe um número inteiro de dias entre 1 e 3650 ou deixe em branco.",
            "请输入 1 到 3650 之间的整数天数，或留空。",
        ],
    ),
    (
        "access.err.role_exceeds_own_rights",
        [
            "You can only grant roles whose permissions you hold yourself.",
            "Sie können nur Rollen vergeben, deren Berechtigungen Sie selbst haben.",
            "Solo puede asignar roles cuyos permisos tenga usted mismo.",
            "Você só pode atribuir funções cujas permissões você mesmo tem.",
            "您只能授予自己拥有其全部权限的角色。",
        ],
    ),
    (
        "access.err.scope_exceeds_own_rights",
        [
            "A token can only carry permissions you hold yourself.",
            "Ein Token kann nur Berechtigungen tragen, die Sie selbst haben.",
            "Un token solo puede llevar permisos que usted mismo tenga.",
            "Um token só pode ter permissões que você mesmo tem.",
            "令牌只能包含您自己拥有的权限。",
        ],
    ),
    (
        "access.err.last_owner",
        [
            "A store needs at least one owner.",
            "Ein Shop braucht mindestens einen Inhaber.",
            "Una tienda necesita al menos un propietario.",
            "Uma loja precisa de pelo menos um proprietário.",
            "店铺至少需要一名店主。",
        ],
    ),
    (
        "access.err.role_name_taken",
        [
            "A role with this name already exists.",
            "Eine Rolle mit diesem Namen existiert bereits.",
            "Ya existe un rol con este nombre.",
            "Já existe uma função com este nome.",
            "已存在同名角色。",
        ],
    ),
    (
        "access.err.invalid_code",
        [
            "The code is wrong or expired.",
            "Der Code ist falsch oder abgelaufen.",
            "El código es incorrecto o ha caducado.",
            "O código está errado ou expirou.",
            "验证码错误或已过期。",
        ],
    ),
    (
        "access.err.mfa_already_enabled",
        [
            "A second factor is already set up.",
            "Ein zweiter Faktor ist bereits eingerichtet.",
            "Ya hay un segundo factor configurado.",
            "Um segundo fator já está configurado.",
            "第二因素已设置。",
        ],
    ),
    (
        "access.err.not_found",
        [
            "This no longer exists.",
            "Das gibt es nicht mehr.",
            "Esto ya no existe.",
            "Isto não existe mais.",
            "该项已不存在。",
        ],
    ),
    (
        "access.err.rate_limited",
        [
            "Too many attempts. Please try again later.",
            "Zu viele Versuche. Bitte versuchen Sie es später erneut.",
            "Demasiados intentos. Inténtelo de nuevo más tarde.",
            "Tentativas demais. Tente novamente mais tarde.",
            "尝试次数过多，请稍后再试。",
        ],
    ),
    // Built-in roles, by key.
    ("access.role.owner", ["Owner", "Inhaber", "Propietario", "Proprietário", "店主"]),
    ("access.role.administrator", ["Administrator", "Administration", "Administrador", "Administrador", "管理员"]),
    (
        "access.role.catalog_manager",
        ["Catalogue manager", "Katalogpflege", "Gestor de catálogo", "Gerente de catálogo", "商品目录管理员"],
    ),
    (
        "access.role.order_manager",
        ["Order manager", "Bestellabwicklung", "Gestor de pedidos", "Gerente de pedidos", "订单管理员"],
    ),
    ("access.role.warehouse", ["Warehouse", "Lager", "Almacén", "Armazém", "仓库"]),
    (
        "access.role.support_agent",
        ["Support agent", "Kundenservice", "Agente de soporte", "Agente de suporte", "客服专员"],
    ),
    ("access.role.accountant", ["Accountant", "Buchhaltung", "Contable", "Contador", "会计"]),
    ("access.role.analyst", ["Analyst", "Analyse", "Analista", "Analista", "分析师"]),
    // Permissions, by code.
    (
        "access.perm.settings.manage",
        [
            "Change the store's brand and settings",
            "Marke und Einstellungen des Shops ändern",
            "Cambiar la marca y los ajustes de la tienda",
            "Alterar a marca e as configurações da loja",
            "修改店铺品牌和设置",
        ],
    ),
    (
        "access.perm.staff.read",
        [
            "See staff accounts and roles",
            "Mitarbeiterkonten und Rollen ansehen",
            "Ver las cuentas del personal y los roles",
            "Ver contas da equipe e funções",
            "查看员工账户和角色",
        ],
    ),
    (
        "access.perm.staff.manage",
        [
            "Add staff and change their roles",
            "Mitarbeitende hinzufügen und ihre Rollen ändern",
            "Añadir personal y cambiar sus roles",
            "Adicionar membros da equipe e alterar suas funções",
            "添加员工并更改其角色",
        ],
    ),
    (
        "access.perm.roles.manage",
        [
            "Compose custom roles",
            "Eigene Rollen zusammenstellen",
            "Componer roles propios",
            "Compor funções personalizadas",
            "组合自定义角色",
        ],
    ),
    (
        "access.perm.tokens.manage",
        [
            "Create and revoke API tokens",
            "API-Token erstellen und widerrufen",
            "Crear y revocar tokens de API",
            "Criar e revogar tokens de API",
            "创建和撤销 API 令牌",
        ],
    ),
    (
        "access.perm.audit.read",
        [
            "Read the audit log",
            "Audit-Protokoll lesen",
            "Leer el registro de auditoría",
            "Ler o registro de auditoria",
            "查看审计日志",
        ],
    ),
    (
        "access.perm.webhooks.manage",
        [
            "Manage webhook endpoints and see deliveries",
            "Webhook-Endpunkte verwalten und Zustellungen ansehen",
            "Gestionar los endpoints de webhooks y ver las entregas",
            "Gerenciar endpoints de webhooks e ver entregas",
            "管理 Webhook 端点并查看投递记录",
        ],
    ),
    (
        "access.perm.events.read",
        [
            "Read the store's event log",
            "Ereignisprotokoll des Shops lesen",
            "Leer el registro de eventos de la tienda",
            "Ler o registro de eventos da loja",
            "查看店铺事件日志",
        ],
    ),
    (
        "access.perm.customers.read",
        [
            "See customer accounts",
            "Kundenkonten ansehen",
            "Ver las cuentas de clientes",
            "Ver contas de clientes",
            "查看客户账户",
        ],
    ),
    (
        "access.perm.customers.manage",
        [
            "Change customer accounts, export and erase their data",
            "Kundenkonten ändern, ihre Daten exportieren und löschen",
            "Modificar cuentas de clientes, exportar y borrar sus datos",
            "Alterar contas de clientes, exportar e apagar seus dados",
            "修改客户账户，导出和删除其数据",
        ],
    ),
    (
        "access.perm.catalog.read",
        [
            "See products, including unpublished ones",
            "Produkte ansehen, auch unveröffentlichte",
            "Ver productos, incluidos los no publicados",
            "Ver produtos, inclusive os não publicados",
            "查看商品（包括未发布的）",
        ],
    ),
    (
        "access.perm.catalog.manage",
        [
            "Create and change products, prices and media",
            "Produkte, Preise und Medien anlegen und ändern",
            "Crear y modificar productos, precios y medios",
            "Criar e alterar produtos, preços e mídias",
            "创建和修改商品、价格及媒体",
        ],
    ),
    ("access.perm.orders.read", ["See orders", "Bestellungen ansehen", "Ver pedidos", "Ver pedidos", "查看订单"]),
    (
        "access.perm.orders.manage",
        [
            "Edit, fulfil, cancel and return orders",
            "Bestellungen bearbeiten, ausführen, stornieren und zurücknehmen",
            "Editar, preparar, cancelar y devolver pedidos",
            "Editar, atender, cancelar e devolver pedidos",
            "编辑、履约、取消和退回订单",
        ],
    ),
    (
        "access.perm.inventory.read",
        [
            "See stock levels and movements",
            "Lagerbestände und -bewegungen ansehen",
            "Ver existencias y movimientos",
            "Ver níveis e movimentações de estoque",
            "查看库存水平和变动",
        ],
    ),
    (
        "access.perm.inventory.manage",
        [
            "Adjust and transfer stock",
            "Bestände korrigieren und umlagern",
            "Ajustar y transferir existencias",
            "Ajustar e transferir estoque",
            "调整和调拨库存",
        ],
    ),
    ("access.perm.payments.read", ["See payments", "Zahlungen ansehen", "Ver pagos", "Ver pagamentos", "查看付款"]),
    (
        "access.perm.payments.manage",
        [
            "Capture, void and refund payments",
            "Zahlungen einziehen, stornieren und erstatten",
            "Capturar, anular y reembolsar pagos",
            "Capturar, anular e reembolsar pagamentos",
            "收取、作废和退还付款",
        ],
    ),
    (
        "access.perm.ledger.read",
        [
            "See the ledger, invoices and financial reports",
            "Hauptbuch, Rechnungen und Finanzberichte ansehen",
            "Ver el libro mayor, las facturas y los informes financieros",
            "Ver o razão, as faturas e os relatórios financeiros",
            "查看账簿、发票和财务报表",
        ],
    ),
    (
        "access.perm.reports.read",
        [
            "See reports and analytics",
            "Berichte und Analysen ansehen",
            "Ver informes y analíticas",
            "Ver relatórios e análises",
            "查看报表和分析",
        ],
    ),
    (
        "access.perm.support.manage",
        [
            "Answer inquiries and handle support cases",
            "Anfragen beantworten und Supportfälle bearbeiten",
            "Responder consultas y gestionar casos de soporte",
            "Responder consultas e tratar casos de suporte",
            "回复咨询并处理支持工单",
        ],
    ),
];
