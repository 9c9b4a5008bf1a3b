//! The shell's texts: key, then English, German, Spanish, Portuguese,
//! Chinese (Simplified).

pub const ENTRIES: &[(&str, [&str; 5])] = &[
    ("nav.home", ["Home", "Startseite", "Inicio", "Início", "首页"]),
    ("nav.admin", ["Admin", "Verwaltung", "Administración", "Administração", "管理后台"]),
    ("nav.api", ["API", "API", "API", "API", "API"]),
    ("nav.account", ["Account", "Konto", "Cuenta", "Conta", "账户"]),
    ("nav.settings", ["Settings", "Einstellungen", "Ajustes", "Configurações", "设置"]),
    ("nav.storefront", ["View store", "Shop ansehen", "Ver tienda", "Ver loja", "查看店铺"]),
    ("lang.label", ["Language", "Sprache", "Idioma", "Idioma", "语言"]),
    ("store.welcome", ["Welcome to", "Willkommen bei", "Bienvenido a", "Bem-vindo à", "欢迎来到"]),
    (
        "store.kind.shop",
        [
            "Browse our products and order online.",
            "Stöbern Sie in unseren Produkten und bestellen Sie online.",
            "Explore nuestros productos y haga su pedido en línea.",
            "Explore nossos produtos e faça seu pedido online.",
            "浏览我们的商品并在线下单。",
        ],
    ),
    (
        "store.kind.nonprofit",
        [
            "Support our cause: donate or become a member.",
            "Unterstützen Sie uns: spenden Sie oder werden Sie Mitglied.",
            "Apoye nuestra causa: done o hágase socio.",
            "Apoie nossa causa: doe ou torne-se membro.",
            "支持我们的事业：捐款或成为会员。",
        ],
    ),
    (
        "store.kind.utility",
        [
            "Pay your bills and file applications online.",
            "Bezahlen Sie Rechnungen und stellen Sie Anträge online.",
            "Pague sus facturas y presente solicitudes en línea.",
            "Pague suas contas e faça solicitações online.",
            "在线缴费和提交申请。",
        ],
    ),
    (
        "store.kind.b2b",
        [
            "Order for your company with your agreed terms.",
            "Bestellen Sie für Ihr Unternehmen zu Ihren Konditionen.",
            "Haga pedidos para su empresa con sus condiciones acordadas.",
            "Faça pedidos para sua empresa com as condições acordadas.",
            "按约定条款为贵公司下单。",
        ],
    ),
    ("store.featured", ["Featured", "Empfohlen", "Destacados", "Destaques", "精选"]),
    (
        "store.catalog_soon",
        [
            "Our catalog is being prepared. Please come back soon.",
            "Unser Katalog wird vorbereitet. Schauen Sie bald wieder vorbei.",
            "Estamos preparando nuestro catálogo. Vuelva pronto.",
            "Nosso catálogo está sendo preparado. Volte em breve.",
            "我们的商品目录正在准备中，敬请期待。",
        ],
    ),
    (
        "footer.powered",
        [
            "Powered by Oxcart",
            "Betrieben mit Oxcart",
            "Con la tecnología de Oxcart",
            "Desenvolvido com Oxcart",
            "由 Oxcart 提供支持",
        ],
    ),
    ("admin.title", ["Back office", "Verwaltung", "Back office", "Back office", "后台管理"]),
    ("admin.dashboard", ["Dashboard", "Übersicht", "Panel", "Painel", "仪表盘"]),
    ("admin.signed_in_as", ["Signed in as", "Angemeldet als", "Sesión iniciada como", "Conectado como", "当前登录"]),
    (
        "admin.recent_events",
        ["Recent events", "Letzte Ereignisse", "Eventos recientes", "Eventos recentes", "最近事件"],
    ),
    (
        "admin.no_events",
        ["No events yet.", "Noch keine Ereignisse.", "Aún no hay eventos.", "Ainda não há eventos.", "暂无事件。"],
    ),
    (
        "admin.store_kind",
        ["Kind of organisation", "Art der Organisation", "Tipo de organización", "Tipo de organização", "组织类型"],
    ),
    (
        "admin.login_title",
        [
            "Sign in to the back office",
            "Anmeldung zur Verwaltung",
            "Iniciar sesión en el back office",
            "Entrar no back office",
            "登录后台管理",
        ],
    ),
    (
        "admin.login_failed",
        [
            "E-mail or password is wrong.",
            "E-Mail oder Passwort ist falsch.",
            "El correo o la contraseña son incorrectos.",
            "E-mail ou senha incorretos.",
            "邮箱或密码错误。",
        ],
    ),
    (
        "admin.totp_title",
        [
            "Second step: code from your authenticator app",
            "Zweiter Schritt: Code aus Ihrer Authenticator-App",
            "Segundo paso: código de su aplicación de autenticación",
            "Segundo passo: código do seu aplicativo autenticador",
            "第二步：输入身份验证器应用中的验证码",
        ],
    ),
    (
        "admin.totp_code",
        ["6-digit code", "6-stelliger Code", "Código de 6 dígitos", "Código de 6 dígitos", "6 位验证码"],
    ),
    (
        "admin.totp_failed",
        [
            "The code was wrong or expired. Please sign in again.",
            "Der Code war falsch oder abgelaufen. Bitte melden Sie sich erneut an.",
            "El código era incorrecto o caducó. Inicie sesión de nuevo.",
            "O código estava errado ou expirou. Entre novamente.",
            "验证码错误或已过期，请重新登录。",
        ],
    ),
    ("form.email", ["E-mail", "E-Mail", "Correo electrónico", "E-mail", "电子邮箱"]),
    ("form.password", ["Password", "Passwort", "Contraseña", "Senha", "密码"]),
    ("form.sign_in", ["Sign in", "Anmelden", "Iniciar sesión", "Entrar", "登录"]),
    ("form.sign_out", ["Sign out", "Abmelden", "Cerrar sesión", "Sair", "退出登录"]),
    ("form.save", ["Save", "Speichern", "Guardar", "Salvar", "保存"]),
    (
        "form.invalid",
        [
            "Please correct the highlighted fields.",
            "Bitte korrigieren Sie die markierten Felder.",
            "Corrija los campos señalados.",
            "Corrija os campos destacados.",
            "请更正标出的字段。",
        ],
    ),
    (
        "form.csrf",
        [
            "Your form expired. Please try again.",
            "Ihr Formular ist abgelaufen. Bitte erneut versuchen.",
            "Su formulario caducó. Inténtelo de nuevo.",
            "Seu formulário expirou. Tente novamente.",
            "表单已过期，请重试。",
        ],
    ),
    ("settings.brand", ["Brand", "Marke", "Marca", "Marca", "品牌"]),
    (
        "settings.saved",
        [
            "Settings saved.",
            "Einstellungen gespeichert.",
            "Ajustes guardados.",
            "Configurações salvas.",
            "设置已保存。",
        ],
    ),
    ("settings.name", ["Store name", "Name des Shops", "Nombre de la tienda", "Nome da loja", "店铺名称"]),
    ("settings.slogan", ["Slogan", "Slogan", "Eslogan", "Slogan", "口号"]),
    ("settings.logo_url", ["Logo URL", "Logo-URL", "URL del logotipo", "URL do logotipo", "标志网址"]),
    ("settings.primary_color", ["Primary colour", "Hauptfarbe", "Color principal", "Cor principal", "主色调"]),
    (
        "settings.default_language",
        ["Default language", "Standardsprache", "Idioma predeterminado", "Idioma padrão", "默认语言"],
    ),
    (
        "error.not_found",
        ["Page not found", "Seite nicht gefunden", "Página no encontrada", "Página não encontrada", "页面未找到"],
    ),
    (
        "error.forbidden",
        [
            "You may not do this.",
            "Dazu fehlt Ihnen die Berechtigung.",
            "No tiene permiso para hacer esto.",
            "Você não tem permissão para isso.",
            "您无权执行此操作。",
        ],
    ),
    (
        "error.internal",
        [
            "Something went wrong on our side.",
            "Bei uns ist ein Fehler aufgetreten.",
            "Algo salió mal por nuestra parte.",
            "Algo deu errado do nosso lado.",
            "我们这边出了点问题。",
        ],
    ),
    ("api.title", ["API reference", "API-Referenz", "Referencia de la API", "Referência da API", "API 参考"]),
    (
        "api.intro",
        [
            "Every endpoint, generated from the code. The machine-readable document is at",
            "Alle Endpunkte, aus dem Code erzeugt. Das maschinenlesbare Dokument liegt unter",
            "Todos los endpoints, generados a partir del código. El documento legible por máquina está en",
            "Todos os endpoints, gerados a partir do código. O documento legível por máquina está em",
            "所有接口均由代码生成。机器可读文档位于",
        ],
    ),
];
